//! What a reason cites: a policy (or a procedure's own rule), the article of the
//! regulation it enforces and the rule in both languages. Decisions, explanations,
//! the pack's policy notes and the procedures' refusals all cite through it.

use serde::Serialize;
use std::borrow::Cow;

/// A policy or rule id, the article it enforces (such as `第十七条`) and the rule in
/// Chinese and in English.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Citation {
    policy: Cow<'static, str>,
    article: Cow<'static, str>,
    zh: Cow<'static, str>,
    en: Cow<'static, str>,
}

impl Citation {
    /// A citation of a rule written into the code (the engine's own reasons, the
    /// procedures' rules).
    pub const fn fixed(
        policy: &'static str,
        article: &'static str,
        zh: &'static str,
        en: &'static str,
    ) -> Self {
        Citation {
            policy: Cow::Borrowed(policy),
            article: Cow::Borrowed(article),
            zh: Cow::Borrowed(zh),
            en: Cow::Borrowed(en),
        }
    }

    /// A citation read from elsewhere (a policy's annotations).
    pub fn new(
        policy: impl Into<String>,
        article: impl Into<String>,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        Citation {
            policy: Cow::Owned(policy.into()),
            article: Cow::Owned(article.into()),
            zh: Cow::Owned(zh.into()),
            en: Cow::Owned(en.into()),
        }
    }

    /// The policy id (`@id`), or the id of the engine's or a procedure's own rule.
    pub fn policy(&self) -> &str {
        &self.policy
    }
    /// The article it enforces (`@article`), such as `第十七条`.
    pub fn article(&self) -> &str {
        &self.article
    }
    /// The rule in Chinese (`@zh`).
    pub fn zh(&self) -> &str {
        &self.zh
    }
    /// The rule in English (`@en`).
    pub fn en(&self) -> &str {
        &self.en
    }
}
