//! A policy's conditions, one by one: each conjunct of a `when` clause (its top-level
//! `&&` split) and each `unless` clause whole, as Cedar JSON to evaluate and as the
//! source text a reader recognises.
//!
//! The structure comes from the policy's JSON form (Cedar's EST), so evaluation never
//! depends on text. The text is cut from the policy's source and kept only when it
//! parses back to exactly the same expression; otherwise Cedar's own rendering of the
//! expression is shown.

use super::ClauseKind;
use cedar_policy::{Policy, PolicyId};
use serde_json::{json, Value};

/// One condition of a policy.
#[derive(Debug, Clone)]
pub(super) struct Cond {
    pub(super) kind: ClauseKind,
    /// The expression (EST): a `when` conjunct, or an `unless` clause's body.
    pub(super) expr: Value,
    /// The expression as Cedar source.
    pub(super) text: String,
}

/// The conditions of a policy given as EST, with `source` its Cedar text.
pub(super) fn of(est: &Value, source: &str) -> Vec<Cond> {
    let clauses: Vec<(ClauseKind, &Value)> = est
        .get("conditions")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    let kind = match c.get("kind").and_then(Value::as_str) {
                        Some("when") => ClauseKind::When,
                        Some("unless") => ClauseKind::Unless,
                        _ => return None,
                    };
                    Some((kind, c.get("body")?))
                })
                .collect()
        })
        .unwrap_or_default();
    let bodies = clause_bodies(source);
    let mut out = Vec::new();
    for (n, (kind, body)) in clauses.into_iter().enumerate() {
        let exprs: Vec<&Value> = match kind {
            ClauseKind::When => {
                let mut v = Vec::new();
                flatten_and(body, &mut v);
                v
            }
            ClauseKind::Unless => vec![body],
        };
        // The source pieces, when the source's clause matches the EST's.
        let pieces: Option<Vec<String>> = bodies
            .get(n)
            .filter(|(k, _)| *k == kind)
            .map(|(_, text)| match kind {
                ClauseKind::When => split_and(text).into_iter().map(clean).collect(),
                ClauseKind::Unless => vec![clean(text)],
            })
            .filter(|p: &Vec<String>| p.len() == exprs.len());
        for (k, expr) in exprs.into_iter().enumerate() {
            let text = pieces
                .as_ref()
                .and_then(|p| p.get(k))
                .filter(|t| parses_to(t, expr))
                .cloned()
                .unwrap_or_else(|| render(expr));
            out.push(Cond {
                kind,
                expr: expr.clone(),
                text,
            });
        }
    }
    out
}

fn flatten_and<'v>(e: &'v Value, out: &mut Vec<&'v Value>) {
    if let Some(and) = e.get("&&") {
        if let (Some(l), Some(r)) = (and.get("left"), and.get("right")) {
            flatten_and(l, out);
            flatten_and(r, out);
            return;
        }
    }
    out.push(e);
}

fn when_policy(expr: &Value) -> Value {
    json!({
        "effect": "permit",
        "principal": {"op": "All"},
        "action": {"op": "All"},
        "resource": {"op": "All"},
        "conditions": [{"kind": "when", "body": expr}],
    })
}

/// Whether `text` parses to the expression `expr`.
fn parses_to(text: &str, expr: &Value) -> bool {
    let src = format!("permit (principal, action, resource) when {{\n{text}\n}};");
    Policy::parse(None, &src)
        .ok()
        .and_then(|p| p.to_json().ok())
        .and_then(|v| v.pointer("/conditions/0/body").cloned())
        .is_some_and(|body| &body == expr)
}

/// Cedar's own rendering of an expression.
fn render(expr: &Value) -> String {
    let Ok(policy) = Policy::from_json(Some(PolicyId::new("x")), when_policy(expr)) else {
        return expr.to_string();
    };
    let text = policy.to_string();
    let body = text
        .find("when")
        .and_then(|w| text.get(w..))
        .and_then(|t| t.get(t.find('{')? + 1..t.rfind('}')?))
        .unwrap_or(&text);
    clean(body)
}

/// A scanner over Cedar source that knows strings and comments, so that brackets and
/// `&&` inside them are not taken for structure.
struct Scan<'s> {
    src: &'s str,
    pos: usize,
}

#[derive(Debug, PartialEq)]
enum Tok {
    /// An opening bracket: `(`, `[`, `{`.
    Open(char),
    /// A closing bracket.
    Close(char),
    /// `&&`.
    And,
    /// A word (identifier or keyword) from byte `start`.
    Word(usize, usize),
    /// Anything else: a string, an operator, a number.
    Other,
}

impl<'s> Scan<'s> {
    fn new(src: &'s str) -> Self {
        Scan { src, pos: 0 }
    }

    /// The next token and the byte offset it starts at.
    fn next_tok(&mut self) -> Option<(usize, Tok)> {
        let bytes = self.src.as_bytes();
        loop {
            let &b = bytes.get(self.pos)?;
            if b.is_ascii_whitespace() {
                self.pos += 1;
            } else if b == b'/' && bytes.get(self.pos + 1) == Some(&b'/') {
                while bytes.get(self.pos).is_some_and(|&c| c != b'\n') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
        let start = self.pos;
        let b = bytes[start];
        self.pos += 1;
        let tok = match b {
            b'(' | b'[' | b'{' => Tok::Open(b as char),
            b')' | b']' | b'}' => Tok::Close(b as char),
            b'&' if bytes.get(start + 1) == Some(&b'&') => {
                self.pos += 1;
                Tok::And
            }
            b'"' => {
                while let Some(&c) = bytes.get(self.pos) {
                    self.pos += 1;
                    if c == b'\\' {
                        self.pos += 1;
                    } else if c == b'"' {
                        break;
                    }
                }
                Tok::Other
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                while bytes
                    .get(self.pos)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    self.pos += 1;
                }
                Tok::Word(start, self.pos)
            }
            _ => {
                // Stay on character boundaries for non-ASCII text.
                while !self.src.is_char_boundary(self.pos) {
                    self.pos += 1;
                }
                Tok::Other
            }
        };
        Some((start, tok))
    }
}

/// The `when` and `unless` clause bodies of a policy's source, in order.
fn clause_bodies(src: &str) -> Vec<(ClauseKind, &str)> {
    let mut scan = Scan::new(src);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut pending: Option<ClauseKind> = None;
    let mut body_start: Option<(ClauseKind, usize)> = None;
    while let Some((at, tok)) = scan.next_tok() {
        match tok {
            Tok::Word(s, e) if depth == 0 => {
                pending = match src.get(s..e) {
                    Some("when") => Some(ClauseKind::When),
                    Some("unless") => Some(ClauseKind::Unless),
                    _ => None,
                };
            }
            Tok::Open(c) => {
                if depth == 0 && c == '{' {
                    if let Some(kind) = pending.take() {
                        body_start = Some((kind, at + 1));
                    }
                }
                depth += 1;
            }
            Tok::Close(_) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some((kind, start)) = body_start.take() {
                        if let Some(body) = src.get(start..at) {
                            out.push((kind, body));
                        }
                    }
                }
                pending = None;
            }
            _ => pending = None,
        }
    }
    out
}

/// `text` split at its top-level `&&`s.
fn split_and(text: &str) -> Vec<&str> {
    let mut scan = Scan::new(text);
    let mut depth = 0usize;
    let mut pieces = Vec::new();
    let mut start = 0;
    while let Some((at, tok)) = scan.next_tok() {
        match tok {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => depth = depth.saturating_sub(1),
            Tok::And if depth == 0 => {
                pieces.push(text.get(start..at).unwrap_or(""));
                start = at + 2;
            }
            _ => {}
        }
    }
    pieces.push(text.get(start..).unwrap_or(""));
    pieces
}

/// Source text on one line: comments dropped, runs of blanks outside strings made
/// one space, and no space just inside brackets.
fn clean(text: &str) -> String {
    let mut scan = Scan::new(text);
    let mut out = String::new();
    let mut last_end = None;
    while let Some((at, tok)) = scan.next_tok() {
        let piece = text.get(at..scan.pos).unwrap_or("");
        if let Some(end) = last_end {
            let gap = text.get(end..at).unwrap_or("");
            let after_open = out.ends_with(['(', '[']);
            let before_close = matches!(tok, Tok::Close(')') | Tok::Close(']'));
            if !gap.is_empty() && !after_open && !before_close {
                out.push(' ');
            }
        }
        out.push_str(piece);
        last_end = Some(scan.pos);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conds(src: &str) -> Vec<(ClauseKind, String)> {
        let p = Policy::parse(None, src).unwrap();
        of(&p.to_json().unwrap(), &p.to_string())
            .into_iter()
            .map(|c| (c.kind, c.text))
            .collect()
    }

    #[test]
    fn when_conjuncts_come_apart_with_their_source_text() {
        let got = conds(
            r#"@id("x") // a comment with && and {
            permit (principal, action == Action::"q", resource)
            when {
              principal.roles.containsAny(["a", "b && c"]) && // why
              (resource.level <= 2 || context has approval) &&
              context has risk && context.risk <= 2
            };"#,
        );
        let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                r#"principal.roles.containsAny(["a", "b && c"])"#,
                "(resource.level <= 2 || context has approval)",
                "context has risk",
                "context.risk <= 2",
            ]
        );
        assert!(got.iter().all(|(k, _)| *k == ClauseKind::When));
    }

    #[test]
    fn an_unless_clause_stays_whole() {
        let got = conds(
            r#"permit (principal, action, resource) when { principal.x == 1 }
               unless { context has a && context.a };"#,
        );
        assert_eq!(
            got,
            [
                (ClauseKind::When, "principal.x == 1".to_owned()),
                (ClauseKind::Unless, "context has a && context.a".to_owned()),
            ]
        );
    }

    #[test]
    fn or_at_the_top_is_one_condition() {
        let got = conds(
            r#"permit (principal, action, resource) when { principal.b || context.d && resource.f };"#,
        );
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn a_policy_without_source_is_rendered_by_cedar() {
        let p = Policy::parse(
            None,
            r#"permit (principal, action, resource) when { principal.x == 1 && context.y };"#,
        )
        .unwrap();
        let c = of(&p.to_json().unwrap(), "");
        assert_eq!(c.len(), 2);
        assert!(c[0].text.contains("principal.x") && c[0].text.contains("== 1"));
    }
}
