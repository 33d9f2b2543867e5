//! The articles the assessment's findings cite: number, heading and a short summary in
//! both languages, and the sentence of the original text the finding rests on.

use serde::Serialize;

/// An article (or a clause of one) of the regulation, as a finding cites it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleRef {
    /// A stable id: `art10`, or `art3.3` for clause (3) of Art. 3.
    pub id: &'static str,
    /// The article's number.
    pub number: u8,
    /// The clause, where the finding rests on one clause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clause: Option<u8>,
    /// How the text names it: `第十条`, `第三条（3）`.
    pub zh: &'static str,
    /// The article's heading in the original (without the brackets).
    pub heading_zh: &'static str,
    /// The heading in English.
    pub heading_en: &'static str,
    /// What the article requires, in Chinese.
    pub summary_zh: &'static str,
    /// What the article requires, in English.
    pub summary_en: &'static str,
    /// The sentence of the original text the findings under it rest on.
    pub quote_zh: &'static str,
    /// Where the original text is: the file of the regulation and the article.
    pub source: &'static str,
}

macro_rules! article {
    ($name:ident, $id:literal, $n:literal, $clause:expr, $zh:literal, $hzh:literal, $hen:literal,
     $szh:literal, $sen:literal, $quote:literal) => {
        pub(crate) const $name: ArticleRef = ArticleRef {
            id: $id,
            number: $n,
            clause: $clause,
            zh: $zh,
            heading_zh: $hzh,
            heading_en: $hen,
            summary_zh: $szh,
            summary_en: $sen,
            quote_zh: $quote,
            source: concat!("regulation/measures.zh.txt ", $zh),
        };
    };
}

article!(
    ART3_3,
    "art3.3",
    3,
    Some(3),
    "第三条（3）",
    "管理原则·最小授权",
    "principles: least privilege",
    "在保证业务功能完整实现的前提下，赋予用户角色最小的操作权限",
    "give each role the least privilege the business needs",
    "在保证业务功能完整实现的前提下，应赋予数据活动中用户角色最小的操作权限，避免用户非法或异常操作所造成的损失。"
);
article!(
    ART5,
    "art5",
    5,
    None,
    "第五条",
    "工作职责",
    "responsibilities",
    "使用部门明确政务数据安全负责人和管理机构，履行数据安全保护义务",
    "each user department names a data-security officer and a managing body and carries out its data-protection duties",
    "（2） 明确政务数据安全负责人和管理机构，履行数据安全保护义务；"
);
article!(
    ART7,
    "art7",
    7,
    None,
    "第七条",
    "平台存储安全",
    "storage security",
    "运营单位采用数据加密存储工具，对数据湖内数据进行整体加密保护",
    "the operator encrypts all data in the platform's data lake",
    "大数据平台运营单位应采用数据加密存储工具，对大数据平台数据湖内数据进行整体加密保护。"
);
article!(
    ART8,
    "art8",
    8,
    None,
    "第八条",
    "平台安全审计",
    "security audit",
    "日志统一监测与定期审查；审计日志备份，保存至少6个月，避免非预期的删除、修改或覆盖",
    "monitor and review the logs; back the audit log up, keep it at least six months and protect it from unexpected deletion, modification or overwriting",
    "对审计日志进行备份，审计日志保存期限至少6个月，避免受到非预期的删除、修改或覆盖等。"
);
article!(
    ART10,
    "art10",
    10,
    None,
    "第十条",
    "数据分类分级",
    "classification and grading",
    "政务数据在编目前先进行分类分级，按数据安全等级和场景风险确定管控措施",
    "data is classified and graded before it is catalogued; controls follow its grade and the scenario's risk",
    "大数据平台内的政务数据在编目前原则上需先进行分类分级。"
);
article!(
    ART14,
    "art14",
    14,
    None,
    "第十四条",
    "数据共享安全",
    "sharing",
    "参照政务数据共享安全指引，做好数据共享需求的提出与审核",
    "sharing follows the guideline: a request is proposed and reviewed",
    "应参照政务数据共享安全指引，按要求做好数据共享需求的提出与审核，保障数据共享实施安全。"
);
article!(
    ART15,
    "art15",
    15,
    None,
    "第十五条",
    "数据销毁安全",
    "destruction",
    "建立数据销毁制度，规范销毁的审批和记录流程，妥善保存销毁记录",
    "destruction is approved and recorded, by a set method, and its records are kept",
    "规范数据销毁的审批和记录流程，明确销毁方式和销毁要求，并妥善保存销毁记录。"
);
article!(
    ART16,
    "art16",
    16,
    None,
    "第十六条",
    "全流程管理",
    "vendor supervision",
    "监督供应商依照法律法规和合同约定履行数据安全保护义务；涉及敏感个人信息的须备份、加密、访问控制",
    "vendors are held to the law and their contract; where they touch sensitive personal information it is backed up, encrypted and access-controlled",
    "各部门应当监督受委托建设、维护政务信息系统的供应商依照法律法规的规定和合同约定履行政务数据安全保护义务"
);
article!(
    ART17,
    "art17",
    17,
    None,
    "第十七条",
    "权限管理",
    "privilege management",
    "建立最小授权的访问控制策略；数据库、操作系统最高管理员权限由各部门指定专人负责，不得转交供应商人员",
    "least-privilege access control; top administrator rights of databases and operating systems are held by designated staff, never by vendor staff",
    "对数据库、操作系统等的最高管理员权限必须由各部门指定专人负责，不得擅自转交供应商人员管理使用"
);

/// Every article the assessment can cite, in the order of the text.
pub(crate) const ARTICLES: &[&ArticleRef] = &[
    &ART3_3, &ART5, &ART7, &ART8, &ART10, &ART14, &ART15, &ART16, &ART17,
];
