//! The `Rule` trait, the `declare_rule!` macro and the collector rules report into.

use crate::diagnostic::{Diagnostic, Severity};
use crate::RuleContext;
use netdoctor_model::Origin;

/// The troubleshooting layer a rule belongs to (the hundreds digit of its ID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Attachment,
    Ip,
    Dns,
    Policy,
    CniFirewall,
    Growth,
}

impl Family {
    /// The family an ID belongs to, from its hundreds digit.
    pub fn of(id: &str) -> Option<Family> {
        match id.as_bytes().get(2)? {
            b'1' => Some(Family::Attachment),
            b'2' => Some(Family::Ip),
            b'3' => Some(Family::Dns),
            b'4' => Some(Family::Policy),
            b'5' => Some(Family::CniFirewall),
            b'6' => Some(Family::Growth),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Attachment => "attachment",
            Family::Ip => "ip",
            Family::Dns => "dns",
            Family::Policy => "policy",
            Family::CniFirewall => "cni-firewall",
            Family::Growth => "growth",
        }
    }
}

/// What every rule says about itself. Implemented by `declare_rule!`.
pub trait RuleInfo {
    /// The ID, `ND101`: it never changes meaning and is never reused.
    const ID: &'static str;
    /// The struct name, `DefaultBridge`; the rule's name is its kebab-case form.
    const TYPE_NAME: &'static str;
    /// The rule's documentation, from its `///` lines.
    const DOC: &'static str;
    const SEVERITY: Severity;
}

/// A check over the model.
pub trait Rule: Sync {
    fn type_name(&self) -> &'static str;
    /// The raw doc text (one leading space per line, as `///` leaves it).
    fn raw_doc(&self) -> &'static str;
    fn default_severity(&self) -> Severity;
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics);
}

impl<T: RuleInfo + Check + Sync> Rule for T {
    fn type_name(&self) -> &'static str {
        T::TYPE_NAME
    }
    fn raw_doc(&self) -> &'static str {
        T::DOC
    }
    fn default_severity(&self) -> Severity {
        T::SEVERITY
    }
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics) {
        Check::check(self, cx, out)
    }
}

/// The part of a rule its file writes: what it looks for.
pub trait Check {
    fn check(&self, cx: &RuleContext<'_>, out: &mut Diagnostics);
}

/// Declares a rule struct, capturing its `///` doc into `RuleInfo::DOC`, its severity and
/// its ID. The build script reads these declarations to register every rule (`registry.rs`).
///
/// ```ignore
/// declare_rule! {
///     /// ## What it checks
///     /// ...
///     pub struct DefaultBridge => Error, "ND101";
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    ($(#[doc = $doc:literal])* $vis:vis struct $name:ident => $severity:ident, $id:literal;) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;

        impl $crate::rule::RuleInfo for $name {
            const ID: &'static str = $id;
            const TYPE_NAME: &'static str = stringify!($name);
            const DOC: &'static str = concat!($($doc, "\n"),*);
            const SEVERITY: $crate::Severity = $crate::Severity::$severity;
        }
    };
}

/// Collects the findings of one rule run; knows which rule is running.
pub struct Diagnostics {
    id: &'static str,
    name: String,
    severity: Severity,
    default_help: String,
    findings: Vec<Diagnostic>,
}

impl Diagnostics {
    pub(crate) fn new(id: &'static str, name: String, severity: Severity, default_help: String) -> Self {
        Diagnostics { id, name, severity, default_help, findings: Vec::new() }
    }

    /// Records a finding at `origin` and returns it for `.subjects()`, `.help()`, ….
    pub fn report(&mut self, origin: &Origin, message: impl Into<String>) -> &mut Diagnostic {
        self.findings.push(Diagnostic {
            id: self.id,
            name: self.name.clone(),
            severity: self.severity,
            message: message.into(),
            origin: Some(origin.clone()),
            related: Vec::new(),
            subjects: Vec::new(),
            help: self.default_help.clone(),
            focus: None,
        });
        let last = self.findings.len() - 1;
        #[allow(clippy::indexing_slicing)] // the element was pushed just above
        &mut self.findings[last]
    }

    pub(crate) fn into_findings(self) -> Vec<Diagnostic> {
        self.findings
    }
}
