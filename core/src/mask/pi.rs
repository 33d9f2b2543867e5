//! The masks for each type of personal information, following common government
//! practice (GB/T 35273, JR/T 0171): keep what identifies a region or an issuer, hide
//! what identifies the person. Masked characters are replaced one for one by `*`. A
//! value that is not of the expected form is masked whole, never passed through.

use super::MASK_CHAR;

/// Replaces every character of `value` by `*`.
pub(super) fn all(value: &str) -> String {
    value.chars().map(|_| MASK_CHAR).collect()
}

/// Keeps the first `head` and the last `tail` characters, masking those between.
/// A value no longer than `head + tail` is masked whole.
pub(super) fn keep_ends(value: &str, head: usize, tail: usize) -> String {
    let n = value.chars().count();
    if n <= head + tail {
        return all(value);
    }
    value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i < head || i >= n - tail {
                c
            } else {
                MASK_CHAR
            }
        })
        .collect()
}

/// Resident ID number: an 18-character number keeps the 6-digit region code and the
/// last 4 (the sequence code and check digit, `X` included); an old 15-digit number
/// keeps the region code and the 3-digit sequence code.
pub(super) fn resident_id(value: &str) -> String {
    let b = value.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b.len() {
        18 if digits(&b[..17]) && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x') => {
            keep_ends(value, 6, 4)
        }
        15 if digits(b) => keep_ends(value, 6, 3),
        _ => all(value),
    }
}

/// Mobile number: 11 digits starting with `1` keep the first 3 and the last 4; an
/// international prefix `+86` or `86` is kept as it is.
pub(super) fn mobile(value: &str) -> String {
    let (prefix, number) = match value.strip_prefix("+86") {
        Some(rest) => ("+86", rest),
        None if value.len() == 13 && value.starts_with("86") => ("86", &value[2..]),
        None => ("", value),
    };
    let b = number.as_bytes();
    if b.len() == 11 && b[0] == b'1' && b.iter().all(u8::is_ascii_digit) {
        format!("{prefix}{}", keep_ends(number, 3, 4))
    } else {
        all(value)
    }
}

/// The compound surnames (复姓) in use, so that `欧阳娜娜` keeps `欧阳`.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "太史", "端木", "上官", "司马", "东方", "独孤", "南宫", "万俟", "闻人", "夏侯", "诸葛",
    "尉迟", "公羊", "赫连", "澹台", "皇甫", "宗政", "濮阳", "公冶", "太叔", "申屠", "公孙", "慕容",
    "仲孙", "钟离", "长孙", "宇文", "司徒", "鲜于", "司空", "闾丘", "子车", "亓官", "司寇", "巫马",
    "公西", "颛孙", "壤驷", "公良", "漆雕", "乐正", "宰父", "谷梁", "拓跋", "夹谷", "轩辕", "令狐",
    "段干", "百里", "呼延", "东郭", "南门", "羊舌", "微生", "公户", "公玉", "公仪", "梁丘", "公仲",
    "公上", "公门", "公山", "公坚", "左丘", "公伯", "西门", "公祖", "第五", "公乘", "贯丘", "公皙",
    "南荣", "东里", "东宫", "仲长", "子书", "子桑", "即墨", "达奚", "褚师",
];

/// Name: a Chinese name keeps its surname (a compound surname when the name has a
/// given name after it) and masks the given name; any other name keeps its first
/// character. Separators (space, `·`) are kept.
pub(super) fn name(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let keep = if chars.len() >= 3 && COMPOUND_SURNAMES.iter().any(|s| value.starts_with(s)) {
        2
    } else {
        1
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if i < keep || c == ' ' || c == '·' || c == '•' {
                c
            } else {
                MASK_CHAR
            }
        })
        .collect()
}

/// The level of a division of a Chinese address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    None,
    Province,
    Prefecture,
}

/// Characters that begin the part of an address below the county: a road, a street,
/// a town, a village, a house number.
const BELOW_COUNTY: &[char] = &[
    '路', '街', '道', '镇', '乡', '村', '号', '巷', '弄', '栋', '楼', '组', '室',
];

/// Where the county-level division (区, 县, 旗 or a county-level 市) of an address
/// ends, in characters; or where the prefecture ends when the address has no county.
fn district_end(chars: &[char]) -> Option<usize> {
    let is_suffix = |c: char| matches!(c, '省' | '市' | '区' | '县' | '旗' | '州' | '盟');
    let mut level = Level::None;
    let mut kept = None;
    let mut pos = 0;
    while pos < chars.len() {
        // The next unit ends at the first suffix character at least one character in,
        // extended over suffix characters that follow it (`广州市`, `贵州省`).
        let Some(mut end) = (pos + 1..chars.len()).find(|&i| is_suffix(chars[i])) else {
            return kept;
        };
        while end + 1 < chars.len() && is_suffix(chars[end + 1]) {
            end += 1;
        }
        let unit: String = chars[pos..=end].iter().collect();
        if unit.chars().any(|c| BELOW_COUNTY.contains(&c)) {
            return kept;
        }
        let county =
            if unit.ends_with("自治区") || unit.ends_with("特别行政区") || unit.ends_with('省')
            {
                if level != Level::None {
                    return kept;
                }
                level = Level::Province;
                false
            } else if unit.ends_with("地区") || unit.ends_with('州') || unit.ends_with('盟') {
                level = Level::Prefecture;
                false
            } else if unit.ends_with('市') {
                let county = level == Level::Prefecture;
                level = Level::Prefecture;
                county
            } else {
                true
            };
        kept = Some(end + 1);
        if county {
            return kept;
        }
        pos = end + 1;
    }
    kept
}

/// Address: keeps the province, the prefecture and the county-level division
/// (`北京市朝阳区`, `广西壮族自治区南宁市青秀区`) and masks the rest; an address in
/// which no division is found is masked whole.
pub(super) fn address(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    match district_end(&chars) {
        Some(end) => chars
            .iter()
            .enumerate()
            .map(|(i, &c)| if i < end { c } else { MASK_CHAR })
            .collect(),
        None => all(value),
    }
}

/// Bank card number: 12 to 19 digits (spaces between groups allowed) keep the first
/// 6 (the issuer) and the last 4.
pub(super) fn bank_card(value: &str) -> String {
    let n = value.bytes().filter(u8::is_ascii_digit).count();
    if !(12..=19).contains(&n) || !value.bytes().all(|b| b.is_ascii_digit() || b == b' ') {
        return all(value);
    }
    let mut i = 0;
    value
        .chars()
        .map(|c| {
            if c == ' ' {
                return c;
            }
            i += 1;
            if i <= 6 || i > n - 4 {
                c
            } else {
                MASK_CHAR
            }
        })
        .collect()
}

/// E-mail address: keeps the first character of the local part and the domain.
pub(super) fn email(value: &str) -> String {
    match value.rsplit_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') =>
        {
            if local.chars().count() == 1 {
                format!("{MASK_CHAR}@{domain}")
            } else {
                format!("{}@{domain}", keep_ends(local, 1, 0))
            }
        }
        _ => all(value),
    }
}

/// Date of birth, and Ranger's "date: show only year": `1990-05-17`, `1990/5/17`,
/// `19900517` and `1990年5月17日` become `1990`. Anything else is masked whole.
pub(super) fn year(value: &str) -> String {
    let b = value.as_bytes();
    let year_ok = b.len() >= 4 && b[..4].iter().all(u8::is_ascii_digit);
    let rest = &value[if year_ok { 4 } else { 0 }..];
    let dated = year_ok
        && (rest.is_empty()
            || (b.len() == 8 && b.iter().all(u8::is_ascii_digit))
            || (rest.len() > 1
                && [b'-', b'/', b'.'].contains(&rest.as_bytes()[0])
                && rest[1..].bytes().all(|c| {
                    c.is_ascii_digit() || matches!(c, b'-' | b'/' | b'.' | b' ' | b':' | b'T')
                }))
            || rest.starts_with('年'));
    if dated {
        value[..4].to_owned()
    } else {
        all(value)
    }
}

/// Licence plate: 7 or 8 characters (a new-energy plate; a `·` after the letter
/// allowed) keep the province and the letter of the issuing office and the last
/// character.
pub(super) fn licence_plate(value: &str) -> String {
    let compact: Vec<char> = value.chars().filter(|&c| c != '·').collect();
    if !(7..=8).contains(&compact.len()) || !compact[2..].iter().all(char::is_ascii_alphanumeric) {
        return all(value);
    }
    let n = value.chars().count();
    value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i < 2 || i == n - 1 || c == '·' {
                c
            } else {
                MASK_CHAR
            }
        })
        .collect()
}
