//! The HTML report: one self-contained page — inline CSS, an inline SVG chart, the
//! report's JSON embedded, and a small inline script that recounts the findings from
//! that JSON and writes the counts into the page (`data-fill` elements get a
//! `data-count`), so that a rendered page proves its counts agree with its data.

use super::articles::ARTICLES;
use super::report::{Assessment, RecordInfo, SeverityCounts};
use super::{slug, Finding, Severity};
use std::fmt::Write as _;

/// The severities from the most to the least severe.
const ORDER: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

fn color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#7f1d1d",
        Severity::High => "#dc2626",
        Severity::Medium => "#d97706",
        Severity::Low => "#2563eb",
        Severity::Info => "#6b7280",
    }
}

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON made safe inside a `<script>` element.
fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// A count the page's script fills in: rendered with the expected value, which the
/// script replaces with its own count (and records in `data-count`).
fn fill(key: &str, n: usize) -> String {
    format!(
        "<span class=\"n\" data-fill=\"{}\" data-expected=\"{n}\">{n}</span>",
        esc(key)
    )
}

fn dept_anchor(id: Option<&str>) -> String {
    match id {
        Some(d) => format!("dept-{}", slug(d)),
        None => "dept-platform".to_owned(),
    }
}

const CSS: &str = r#"
:root { --fg: #111827; --muted: #6b7280; --line: #e5e7eb; --bg: #ffffff; --soft: #f9fafb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.55 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h1 small, h2 small, h3 small { color: var(--muted); font-weight: normal; }
h2 { border-bottom: 2px solid var(--line); padding-bottom: 4px; margin-top: 40px; }
nav a { margin-right: 14px; }
a { color: #1d4ed8; text-decoration: none; }
a:hover { text-decoration: underline; }
.meta { color: var(--muted); margin: 0 0 12px; }
dl.sources { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.sources dt { color: var(--muted); }
dl.sources dd { margin: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 120px; background: var(--soft); border-top: 4px solid var(--c, #111827); }
.card .n { display: block; font-size: 1.9em; font-weight: 700; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.zero td { color: var(--muted); }
.badge { display: inline-block; color: #fff; border-radius: 4px; padding: 0 7px; font-size: 0.85em; font-weight: 600; background: var(--c); }
article.finding { border: 1px solid var(--line); border-left: 6px solid var(--c); border-radius: 6px; padding: 10px 16px; margin: 14px 0; }
article.finding h3 { margin: 6px 0; font-size: 1.05em; }
article.finding code, .records code { background: var(--soft); padding: 0 4px; border-radius: 3px; }
.detail { margin: 4px 0; }
blockquote { margin: 6px 0; padding: 4px 12px; border-left: 3px solid var(--line); color: #374151; }
blockquote cite { display: block; color: var(--muted); font-size: 0.85em; font-style: normal; }
.fix { background: #f0fdf4; border-radius: 4px; padding: 6px 10px; margin-top: 8px; }
.fix p { margin: 2px 0; }
ul.refs { margin: 4px 0; padding-left: 18px; }
.records li { margin: 8px 0; }
.records dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 12px; margin: 4px 0 4px 12px; font-size: 0.92em; }
.records dt { color: var(--muted); }
.records dd { margin: 0; word-break: break-all; }
.en { color: #374151; }
figure { margin: 12px 0; }
figcaption { color: var(--muted); font-size: 0.9em; }
.legend span { display: inline-block; margin-right: 14px; font-size: 0.9em; }
.legend i { display: inline-block; width: 11px; height: 11px; margin-right: 4px; border-radius: 2px; vertical-align: -1px; }
@media print { nav { display: none; } article.finding { break-inside: avoid; } }
"#;

const SCRIPT: &str = r#"
(function () {
  var data = JSON.parse(document.getElementById('assessment-data').textContent);
  var counts = {};
  function inc(k, n) { counts[k] = (counts[k] || 0) + (n === undefined ? 1 : n); }
  data.findings.forEach(function (f) {
    inc('total');
    inc('severity:' + f.severity);
    inc('article:' + f.article.id);
    if (f.departments.length === 0) { inc('platform'); }
    f.departments.forEach(function (d) { inc('department:' + d); });
  });
  Array.prototype.forEach.call(document.querySelectorAll('svg rect[data-severity]'), function (r) {
    inc('chart:' + r.getAttribute('data-severity'), Number(r.getAttribute('data-count')));
  });
  Array.prototype.forEach.call(document.querySelectorAll('[data-fill]'), function (el) {
    var v = String(counts[el.getAttribute('data-fill')] || 0);
    el.textContent = v;
    el.setAttribute('data-count', v);
  });
  document.body.setAttribute('data-findings-rendered',
    String(document.querySelectorAll('article.finding').length));
  document.body.setAttribute('data-ready', 'true');
})();
"#;

pub(crate) fn render(a: &Assessment) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let s = &a.summary;
    h.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        h,
        "<title>政务数据安全合规自评估 · Compliance self-assessment · {}</title>",
        esc(&a.now.to_string())
    );
    let _ = writeln!(h, "<style>{CSS}</style>\n</head>");
    let _ = writeln!(
        h,
        "<body data-format=\"{}\" data-total=\"{}\">\n<main>",
        esc(a.format),
        s.total
    );
    header(&mut h, a);
    h.push_str(
        "<nav><a href=\"#summary\">概览 Summary</a><a href=\"#by-article\">按条款 By article</a>\
         <a href=\"#by-department\">按部门 By department</a><a href=\"#findings\">发现 Findings</a>\
         <a href=\"#records\">相关记录 Records</a></nav>\n",
    );
    summary(&mut h, a);
    by_article(&mut h, a);
    by_department(&mut h, a);
    findings(&mut h, a);
    records(&mut h, &a.records);
    h.push_str("</main>\n");
    let _ = writeln!(
        h,
        "<script type=\"application/json\" id=\"assessment-data\">{}</script>",
        script_json(&serde_json::to_string(a).unwrap_or_else(|_| "{}".into()))
    );
    let _ = writeln!(h, "<script>{SCRIPT}</script>");
    h.push_str("</body>\n</html>\n");
    h
}

fn header(h: &mut String, a: &Assessment) {
    h.push_str(
        "<header>\n<h1>政务数据安全合规自评估报告 <small>Compliance self-assessment</small></h1>\n",
    );
    let _ = writeln!(
        h,
        "<p class=\"meta\">评估时间 assessed at <time datetime=\"{0}\">{0}</time> · 依据《大数据平台（一期）政务数据安全管理办法》第二十条 · {1}</p>",
        esc(&a.now.to_string()),
        esc(&a.generator)
    );
    let src = &a.sources;
    h.push_str("<dl class=\"sources\">\n");
    let inv = &src.inventory;
    let _ = writeln!(
        h,
        "<dt>清单 inventory</dt><dd>{} departments, {} vendors, {} users, {} datasets, {} systems</dd>",
        inv.departments, inv.vendors, inv.users, inv.datasets, inv.systems
    );
    let _ = writeln!(
        h,
        "<dt>策略 policies</dt><dd>{} policies, <code>{}</code>{}</dd>",
        src.policies.policies,
        esc(&src.policies.version),
        if src.policies.default_pack {
            " (default pack)"
        } else {
            ""
        }
    );
    match &src.audit {
        Some(au) => {
            let _ = write!(
                h,
                "<dt>审计日志 audit log</dt><dd>{} records{}, {}",
                au.records,
                match (au.first_seq, au.last_seq) {
                    (Some(x), Some(y)) => format!(" (#{x}–#{y})"),
                    _ => String::new(),
                },
                au.integrity
            );
            if let Some(d) = &au.dir {
                let _ = write!(h, ", <code>{}</code>", esc(d));
            }
            if let Some(b) = &au.latest_backup {
                let _ = write!(
                    h,
                    "; latest backup #{} {} ({})",
                    b.seq,
                    esc(&b.time.to_string()),
                    b.state
                );
            }
            let _ = writeln!(
                h,
                "; {} sharing and {} destruction requests</dd>",
                au.shares, au.destructions
            );
        }
        None => h.push_str("<dt>审计日志 audit log</dt><dd>not given</dd>\n"),
    }
    match &src.vault {
        Some(v) => {
            let _ = writeln!(
                h,
                "<dt>密钥库 key store</dt><dd>{} data keys ({} active), master key <code>{}</code> ({})</dd>",
                v.keys,
                v.active_keys,
                esc(&v.master_key_id),
                esc(&v.master_algorithm)
            );
        }
        None => h.push_str("<dt>密钥库 key store</dt><dd>not given</dd>\n"),
    }
    let o = &a.options;
    let _ = writeln!(
        h,
        "<dt>期限 periods</dt><dd>backup {} d · key rotation {} d · unused permissions {} d · audit gap {} d</dd>",
        o.backup_max_age_days, o.key_rotation_days, o.unused_window_days, o.audit_gap_days
    );
    h.push_str("</dl>\n</header>\n");
}

fn summary(h: &mut String, a: &Assessment) {
    let s = &a.summary;
    h.push_str(
        "<section id=\"summary\">\n<h2>概览 <small>Summary</small></h2>\n<div class=\"cards\">\n",
    );
    let _ = writeln!(
        h,
        "<div class=\"card\" id=\"count-total\">{}发现 findings</div>",
        fill("total", s.total)
    );
    for sev in ORDER {
        let _ = writeln!(
            h,
            "<div class=\"card\" id=\"count-{0}\" style=\"--c:{1}\">{2}{3} {0}</div>",
            sev.as_str(),
            color(sev),
            fill(
                &format!("severity:{}", sev.as_str()),
                s.by_severity.get(sev)
            ),
            sev.zh()
        );
    }
    h.push_str("</div>\n");
    chart(h, a);
    h.push_str("</section>\n");
}

/// Stacked horizontal bars: one per article, one segment per severity.
fn chart(h: &mut String, a: &Assessment) {
    let rows = &a.summary.by_article;
    let max = rows.iter().map(|r| r.total).max().unwrap_or(0).max(1);
    let (label_w, bar_w, row_h, top) = (190.0_f64, 620.0_f64, 26.0_f64, 30.0_f64);
    let width = label_w + bar_w + 60.0;
    let height = top + row_h * rows.len() as f64 + 10.0;
    let _ = writeln!(
        h,
        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"chart-title\" \
         viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" font-size=\"13\">"
    );
    h.push_str("<title id=\"chart-title\">按条款与严重程度统计的发现 Findings by article and severity</title>\n");
    // The legend.
    let mut x = label_w;
    for sev in ORDER {
        let _ = writeln!(
            h,
            "<rect x=\"{x}\" y=\"6\" width=\"11\" height=\"11\" fill=\"{}\"/><text x=\"{}\" y=\"16\">{} {}</text>",
            color(sev),
            x + 15.0,
            sev.zh(),
            sev.as_str()
        );
        x += 100.0;
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        let _ = writeln!(
            h,
            "<g data-article=\"{0}\"><text x=\"0\" y=\"{1}\"><a href=\"#article-{0}\">{2} {3}</a></text>",
            esc(r.article),
            y + 16.0,
            esc(r.zh),
            esc(r.heading_zh)
        );
        let mut x = label_w;
        for sev in ORDER {
            let n = r.by_severity.get(sev);
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / max as f64;
            let _ = writeln!(
                h,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{}\" data-article=\"{}\" data-severity=\"{}\" data-count=\"{n}\"><title>{} {}: {n} {}</title></rect>",
                y + 3.0,
                row_h - 8.0,
                color(sev),
                esc(r.article),
                sev.as_str(),
                esc(r.zh),
                esc(r.heading_en),
                sev.as_str()
            );
            x += w;
        }
        let _ = writeln!(
            h,
            "<text x=\"{:.1}\" y=\"{}\" fill=\"#374151\">{}</text></g>",
            x + 6.0,
            y + 16.0,
            r.total
        );
    }
    h.push_str("</svg>\n<figcaption>按条款与严重程度统计 · findings by article and severity; chart totals: ");
    for sev in ORDER {
        let _ = write!(
            h,
            "{} {} ",
            sev.as_str(),
            fill(
                &format!("chart:{}", sev.as_str()),
                a.summary.by_severity.get(sev)
            )
        );
    }
    h.push_str("</figcaption></figure>\n");
}

fn severity_cells(h: &mut String, c: &SeverityCounts) {
    for sev in ORDER {
        let _ = write!(h, "<td class=\"num\">{}</td>", c.get(sev));
    }
}

fn severity_heads(h: &mut String) {
    for sev in ORDER {
        let _ = write!(
            h,
            "<th class=\"num\"><span class=\"badge\" style=\"--c:{}\">{}</span></th>",
            color(sev),
            sev.as_str()
        );
    }
}

fn by_article(h: &mut String, a: &Assessment) {
    h.push_str("<section id=\"by-article\">\n<h2>按条款 <small>By article</small></h2>\n<table>\n<thead><tr><th>条款 Article</th><th>要求 Requirement</th>");
    severity_heads(h);
    h.push_str("<th class=\"num\">合计 total</th></tr></thead>\n<tbody>\n");
    for r in &a.summary.by_article {
        let art = ARTICLES.iter().find(|x| x.id == r.article);
        let _ = write!(
            h,
            "<tr id=\"article-{}\"{}><td><strong>{}</strong> {}<br><small class=\"en\">Art. {} — {}</small></td><td>{}<br><small class=\"en\">{}</small></td>",
            esc(r.article),
            if r.total == 0 { " class=\"zero\"" } else { "" },
            esc(r.zh),
            esc(r.heading_zh),
            art.map_or_else(String::new, |x| match x.clause {
                Some(c) => format!("{}({c})", x.number),
                None => x.number.to_string(),
            }),
            esc(r.heading_en),
            esc(art.map_or("", |x| x.summary_zh)),
            esc(art.map_or("", |x| x.summary_en)),
        );
        severity_cells(h, &r.by_severity);
        let _ = writeln!(
            h,
            "<td class=\"num\">{}</td></tr>",
            fill(&format!("article:{}", r.article), r.total)
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn by_department(h: &mut String, a: &Assessment) {
    h.push_str("<section id=\"by-department\">\n<h2>按部门 <small>By department</small></h2>\n<table>\n<thead><tr><th>部门 Department</th><th>类型 kind</th>");
    severity_heads(h);
    h.push_str("<th class=\"num\">合计 total</th></tr></thead>\n<tbody>\n");
    for d in &a.summary.by_department {
        let key = match &d.department {
            Some(id) => format!("department:{id}"),
            None => "platform".to_owned(),
        };
        let _ = write!(
            h,
            "<tr id=\"{}\"{}><td>{}{}</td><td>{}</td>",
            dept_anchor(d.department.as_deref()),
            if d.total == 0 { " class=\"zero\"" } else { "" },
            d.department
                .as_deref()
                .map(|x| format!("<code>{}</code> ", esc(x)))
                .unwrap_or_default(),
            esc(&d.name),
            esc(d.kind.as_deref().unwrap_or("")),
        );
        severity_cells(h, &d.by_severity);
        let _ = writeln!(h, "<td class=\"num\">{}</td></tr>", fill(&key, d.total));
    }
    h.push_str("</tbody>\n</table>\n</section>\n");
}

fn finding(h: &mut String, a: &Assessment, f: &Finding) {
    let _ = writeln!(
        h,
        "<article class=\"finding\" id=\"{}\" data-severity=\"{}\" data-code=\"{}\" data-article=\"{}\" style=\"--c:{}\">",
        esc(&f.anchor()),
        f.severity.as_str(),
        f.code.as_str(),
        esc(f.article.id),
        color(f.severity)
    );
    let _ = writeln!(
        h,
        "<div><span class=\"badge\">{} {}</span> <code>{}</code> · <a href=\"#article-{}\">{} {}</a>{} · <a href=\"#{}\" title=\"finding id\">{}</a></div>",
        f.severity.zh(),
        f.severity.as_str(),
        f.code.as_str(),
        esc(f.article.id),
        esc(f.article.zh),
        esc(f.article.heading_zh),
        f.related_articles
            .iter()
            .map(|r| format!(", <a href=\"#article-{}\">{}</a>", esc(r.id), esc(r.zh)))
            .collect::<String>(),
        esc(&f.anchor()),
        esc(&f.id)
    );
    let _ = writeln!(
        h,
        "<h3>{} <small>{}</small></h3>",
        esc(&f.title.zh),
        esc(&f.title.en)
    );
    let _ = writeln!(
        h,
        "<p class=\"detail\" lang=\"zh\">{}</p><p class=\"detail en\" lang=\"en\">{}</p>",
        esc(&f.detail.zh),
        esc(&f.detail.en)
    );
    let _ = writeln!(
        h,
        "<blockquote lang=\"zh\">{}<cite>{} · {}</cite></blockquote>",
        esc(f.article.quote_zh),
        esc(f.article.source),
        esc(f.article.summary_en)
    );
    if !f.departments.is_empty() {
        h.push_str("<div>部门 departments: ");
        for (i, d) in f.departments.iter().enumerate() {
            if i > 0 {
                h.push_str(", ");
            }
            let _ = write!(
                h,
                "<a href=\"#{}\"><code>{}</code></a>",
                dept_anchor(Some(d)),
                esc(d)
            );
        }
        h.push_str("</div>\n");
    }
    if !f.records.is_empty() {
        h.push_str("<div>相关记录 records:<ul class=\"refs\">");
        for r in &f.records {
            let label = a
                .records
                .iter()
                .find(|x| x.kind == r.kind && x.id == r.id)
                .map_or_else(|| r.id.clone(), |x| x.label.clone());
            let _ = write!(
                h,
                "<li><a href=\"#{}\">{} <code>{}</code></a> {}</li>",
                esc(&r.anchor()),
                r.kind.as_str(),
                esc(&r.id),
                esc(&label)
            );
        }
        h.push_str("</ul></div>\n");
    }
    let _ = writeln!(
        h,
        "<div class=\"fix\"><strong>整改建议 Remediation</strong><p lang=\"zh\">{}</p><p class=\"en\" lang=\"en\">{}</p></div>",
        esc(&f.remediation.zh),
        esc(&f.remediation.en)
    );
    h.push_str("</article>\n");
}

fn findings(h: &mut String, a: &Assessment) {
    let _ = writeln!(
        h,
        "<section id=\"findings\">\n<h2>发现 <small>Findings ({})</small></h2>",
        a.findings.len()
    );
    if a.findings.is_empty() {
        h.push_str("<p>未发现问题。No findings.</p>\n");
    }
    for f in &a.findings {
        finding(h, a, f);
    }
    h.push_str("</section>\n");
}

fn records(h: &mut String, records: &[RecordInfo]) {
    h.push_str("<section id=\"records\" class=\"records\">\n<h2>相关记录 <small>Records involved</small></h2>\n<ul>\n");
    for r in records {
        let _ = write!(
            h,
            "<li id=\"{}\" data-type=\"{}\"><strong>{}</strong> <code>{}</code> — {}",
            esc(&r.anchor),
            r.kind.as_str(),
            r.kind.as_str(),
            esc(&r.id),
            esc(&r.label)
        );
        if !r.facts.is_empty() {
            h.push_str("<dl>");
            for (k, v) in &r.facts {
                let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
            }
            h.push_str("</dl>");
        }
        h.push_str("<div>发现 findings: ");
        for (i, id) in r.findings.iter().enumerate() {
            if i > 0 {
                h.push_str(", ");
            }
            let _ = write!(h, "<a href=\"#finding-{}\">{}</a>", slug(id), esc(id));
        }
        h.push_str("</div></li>\n");
    }
    h.push_str("</ul>\n</section>\n");
}
