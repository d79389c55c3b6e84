//! Calico's selector language (the `selector`, `namespaceSelector` and `notSelector`
//! fields of projectcalico.org/v3 resources), parsed into a `SelectorExpr` with errors
//! that give the byte offset of the bad token.
//!
//! It accepts what Calico's own parser accepts (libcalico-go/lib/selector/tokenizer/
//! tokenizer.go and parser/parser.go in projectcalico/calico), edge cases included:
//! only spaces and tabs separate tokens (a line break is an error); keys are
//! `[A-Za-z0-9_./-]`, at most 512 bytes; values are quoted with `'` or `"` and have no
//! escapes; `has(`, `all(` and `global(` take no space before the `(`; `notin`,
//! `startswith` and `endswith` may be written as one word; a set may end with a comma
//! (`{'a',}`); an empty or blank selector is `all()`. One limit is ours: a selector
//! nests at most `MAX_DEPTH` levels deep, where Calico has no limit, so that a hostile
//! input cannot overflow the stack.

use netdoctor_model::calico::SelectorExpr;

/// How deep a selector may nest, in parentheses as written and as printed (`Display`
/// puts a pair around every `&&`/`||` chain). No real selector comes close, and it
/// bounds the recursion of the parser and of everything that walks the tree.
pub const MAX_DEPTH: usize = 64;

/// Calico's limit on the length of a key (`MaxLabelLength` in tokenizer.go).
const MAX_KEY_LEN: usize = 512;

/// Where a selector is malformed, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at byte {offset})")]
pub struct SelectorError {
    /// Byte offset into the selector text of the token that is wrong.
    pub offset: usize,
    pub message: String,
}

/// Parses a Calico selector. `&&` binds tighter than `||`, and `!` applies to the
/// single operation or parenthesised group after it.
pub fn parse(text: &str) -> Result<SelectorExpr, SelectorError> {
    let mut parser = Parser { lexer: Lexer { text, pos: 0, after_key: false }, peeked: None, depth: 0 };
    if matches!(parser.peek()?.kind, Kind::Eof) {
        return Ok(SelectorExpr::All);
    }
    let expr = parser.or_expr()?.expr;
    let tok = parser.bump()?;
    match tok.kind {
        Kind::Eof => Ok(expr),
        Kind::RParen => Err(error(tok.start, "unmatched `)`: there is no open `(` for it to close")),
        _ => Err(parser.unexpected(&tok, "`&&`, `||` or the end of the selector")),
    }
}

fn error(offset: usize, message: impl Into<String>) -> SelectorError {
    SelectorError { offset, message: message.into() }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Key(String),
    Value(String),
    LBrace,
    RBrace,
    Comma,
    Eq,
    Ne,
    In,
    NotIn,
    Not,
    Contains,
    StartsWith,
    EndsWith,
    All,
    Global,
    Has(String),
    LParen,
    RParen,
    And,
    Or,
    /// Text that starts no token here: a stray character, or a word after a key that
    /// is no operator. The parser reports it with what it expected instead.
    Other,
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Splits the text into tokens on demand. As in Calico, what a word means depends on
/// the token before it: after a key it must be an operator (`contains`, `in`, ...),
/// anywhere else it is a key, so `contains contains 'contains'` is valid.
struct Lexer<'a> {
    text: &'a str,
    pos: usize,
    after_key: bool,
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-')
}

impl Lexer<'_> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    /// Calico skips spaces and tabs only (`trimWhitespace` in tokenizer.go).
    fn skip_blanks(&mut self) {
        while matches!(self.byte(self.pos), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// The length of the run of key characters at `at`.
    fn key_len(&self, at: usize) -> usize {
        self.text.as_bytes().get(at..).unwrap_or_default().iter().take_while(|b| is_key_byte(**b)).count()
    }

    /// What is at `at`, for a message: a word, one character, or the end.
    fn describe_at(&self, at: usize) -> String {
        let len = self.key_len(at);
        let len = if len > 0 { len } else { self.text.get(at..).and_then(|r| r.chars().next()).map_or(0, char::len_utf8) };
        describe(self.text.get(at..at + len).unwrap_or_default())
    }

    fn next(&mut self) -> Result<Token, SelectorError> {
        self.skip_blanks();
        let start = self.pos;
        let kind = self.kind(start)?;
        self.after_key = matches!(kind, Kind::Key(_));
        Ok(Token { kind, start, end: self.pos })
    }

    fn kind(&mut self, start: usize) -> Result<Kind, SelectorError> {
        let Some(first) = self.byte(start) else { return Ok(Kind::Eof) };
        let second = self.byte(start + 1);
        let (kind, len) = match (first, second) {
            (b'(', _) => (Kind::LParen, 1),
            (b')', _) => (Kind::RParen, 1),
            (b'{', _) => (Kind::LBrace, 1),
            (b'}', _) => (Kind::RBrace, 1),
            (b',', _) => (Kind::Comma, 1),
            (b'=', Some(b'=')) => (Kind::Eq, 2),
            (b'=', _) => return Err(error(start, "expected `==`, found a single `=`")),
            (b'!', Some(b'=')) => (Kind::Ne, 2),
            (b'!', _) => (Kind::Not, 1),
            (b'&', Some(b'&')) => (Kind::And, 2),
            (b'&', _) => return Err(error(start, "expected `&&`, found a single `&`")),
            (b'|', Some(b'|')) => (Kind::Or, 2),
            (b'|', _) => return Err(error(start, "expected `||`, found a single `|`")),
            (b'"' | b'\'', _) => return self.quoted(start, first),
            _ if self.after_key => return Ok(self.operator(start)),
            _ => return self.word(start),
        };
        self.pos = start + len;
        Ok(kind)
    }

    /// A value in quotes. There are no escapes: the value ends at the next quote of
    /// the same kind, so `'say "hi"'` holds double quotes and `"it's"` a single one.
    fn quoted(&mut self, start: usize, quote: u8) -> Result<Kind, SelectorError> {
        let body = start + 1;
        let Some(len) = self.text.get(body..).and_then(|r| r.find(char::from(quote))) else {
            let q = char::from(quote);
            return Err(error(start, format!("unterminated value: no closing {q} for the {q} that starts it")));
        };
        self.pos = body + len + 1;
        Ok(Kind::Value(self.text.get(body..body + len).unwrap_or_default().to_string()))
    }

    /// The operator after a key. Calico wants a word boundary after it (`containsx` is
    /// no operator) and allows any spaces, or none, between `not in`, `starts with` and
    /// `ends with` (`cutMultiWordPrefixCheckBreak`).
    fn operator(&mut self, start: usize) -> Kind {
        const OPERATORS: &[(&[&str], Kind)] = &[
            (&["contains"], Kind::Contains),
            (&["starts", "with"], Kind::StartsWith),
            (&["ends", "with"], Kind::EndsWith),
            (&["not", "in"], Kind::NotIn),
            (&["in"], Kind::In),
        ];
        for (words, kind) in OPERATORS {
            if let Some(len) = self.cut_words(words) {
                self.pos = start + len;
                return kind.clone();
            }
        }
        let len = self.key_len(start).max(self.rest().chars().next().map_or(0, char::len_utf8));
        self.pos = start + len;
        Kind::Other
    }

    /// The length of `words` at the current position, if they are there and end at a
    /// word boundary. Blanks after each word of a multi-word operator are part of it.
    fn cut_words(&self, words: &[&str]) -> Option<usize> {
        let rest = self.rest();
        let mut remainder = rest;
        for word in words {
            remainder = remainder.strip_prefix(word)?;
            if words.len() > 1 {
                remainder = remainder.trim_start_matches([' ', '\t']);
            }
        }
        let boundary = remainder.bytes().next().is_none_or(|b| !is_key_byte(b));
        boundary.then(|| rest.len() - remainder.len())
    }

    /// A key, `has(k)`, `all()` or `global()`: whatever starts with a key character
    /// where no operator is due.
    fn word(&mut self, start: usize) -> Result<Kind, SelectorError> {
        let rest = self.rest();
        if rest.starts_with("has(") {
            self.pos = start + 4;
            self.skip_blanks();
            let key_start = self.pos;
            let len = self.key_len(key_start);
            if len == 0 {
                return Err(error(key_start, format!("expected a label key after `has(`, found {}", self.describe_at(key_start))));
            }
            let key = self.key(key_start, len)?;
            self.pos = key_start + len;
            self.skip_blanks();
            return self.close_paren(Kind::Has(key.clone()), &format!("has({key}"));
        }
        for (call, kind) in [("all(", Kind::All), ("global(", Kind::Global)] {
            if rest.starts_with(call) {
                self.pos = start + call.len();
                self.skip_blanks();
                return self.close_paren(kind, call);
            }
        }
        let len = self.key_len(start);
        if len == 0 {
            self.pos = start + rest.chars().next().map_or(0, char::len_utf8);
            return Ok(Kind::Other);
        }
        let key = self.key(start, len)?;
        self.pos = start + len;
        Ok(Kind::Key(key))
    }

    fn key(&self, start: usize, len: usize) -> Result<String, SelectorError> {
        let key = self.text.get(start..start + len).unwrap_or_default();
        if len > MAX_KEY_LEN {
            let head: String = key.chars().take(24).collect();
            return Err(error(start, format!("label key `{head}…` is {len} bytes long; Calico allows at most {MAX_KEY_LEN}")));
        }
        Ok(key.to_string())
    }

    fn close_paren(&mut self, kind: Kind, opened: &str) -> Result<Kind, SelectorError> {
        if self.byte(self.pos) == Some(b')') {
            self.pos += 1;
            return Ok(kind);
        }
        Err(error(self.pos, format!("expected `)` to close `{opened}`, found {}", self.describe_at(self.pos))))
    }
}

/// Text for a message, in backticks; line breaks and other whitespace Calico rejects
/// are spelled out, since they are the usual surprise (a YAML `|` block keeps them).
fn describe(text: &str) -> String {
    if text.is_empty() {
        return "the end of the selector".to_string();
    }
    let head: String = text.chars().take(40).collect();
    let ellipsis = if head.len() < text.len() { "…" } else { "" };
    let escaped: String = head
        .chars()
        .map(|c| if c.is_control() || (c.is_whitespace() && c != ' ') { c.escape_default().to_string() } else { c.to_string() })
        .collect();
    let shown = format!("`{escaped}{ellipsis}`");
    if text.chars().all(char::is_whitespace) {
        return format!("{shown} (only spaces and tabs may separate the parts of a selector)");
    }
    shown
}

/// Recursive descent over Calico's grammar:
///
/// ```text
/// or        = and ("||" and)*
/// and       = operation ("&&" operation)*
/// operation = "!"* (has | "all()" | "global()" | key op value | key set-op set | "(" or ")")
/// set       = "{" (value ("," value)* ","?)? "}"
/// ```
struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token>,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&mut self) -> Result<&Token, SelectorError> {
        let tok = match self.peeked.take() {
            Some(tok) => tok,
            None => self.lexer.next()?,
        };
        Ok(self.peeked.insert(tok))
    }

    fn bump(&mut self) -> Result<Token, SelectorError> {
        match self.peeked.take() {
            Some(tok) => Ok(tok),
            None => self.lexer.next(),
        }
    }

    fn unexpected(&self, tok: &Token, expected: &str) -> SelectorError {
        let found = match tok.kind {
            Kind::Eof => describe(""),
            _ => describe(self.lexer.text.get(tok.start..tok.end).unwrap_or_default().trim_end_matches([' ', '\t'])),
        };
        error(tok.start, format!("expected {expected}, found {found}"))
    }

    fn or_expr(&mut self) -> Result<Nested, SelectorError> {
        self.chain(Kind::Or, Self::and_expr, SelectorExpr::Or)
    }

    fn and_expr(&mut self) -> Result<Nested, SelectorError> {
        self.chain(Kind::And, Self::operation, SelectorExpr::And)
    }

    /// Operands separated by `op`. A chain of one operand is that operand, as in
    /// Calico's parser.
    fn chain(
        &mut self,
        op: Kind,
        mut operand: impl FnMut(&mut Self) -> Result<Nested, SelectorError>,
        build: fn(Vec<SelectorExpr>) -> SelectorExpr,
    ) -> Result<Nested, SelectorError> {
        let first = operand(self)?;
        let mut depth = first.depth;
        let mut operands = vec![first.expr];
        let mut first_op = None;
        while self.peek()?.kind == op {
            first_op.get_or_insert(self.bump()?.start);
            let next = operand(self)?;
            depth = depth.max(next.depth);
            operands.push(next.expr);
        }
        match (first_op, operands.pop()) {
            (None, Some(only)) => Ok(Nested { expr: only, depth }),
            (Some(at), last) => {
                operands.extend(last);
                Ok(Nested { expr: build(operands), depth: nest(at, depth + 1)? })
            }
            (None, None) => Ok(Nested { expr: build(operands), depth }),
        }
    }

    /// One operation with its leading `!`s, which Calico collapses: `!!has(a)` is
    /// `has(a)`, while `!(!has(a))` keeps both negations.
    fn operation(&mut self) -> Result<Nested, SelectorError> {
        let mut negated = false;
        let mut tok = self.bump()?;
        let first = tok.start;
        while matches!(tok.kind, Kind::Not) {
            negated = !negated;
            tok = self.bump()?;
        }
        let leaf = |expr| Nested { expr, depth: 0 };
        let inner = match tok.kind {
            Kind::Has(key) => leaf(SelectorExpr::Has(key)),
            Kind::All => leaf(SelectorExpr::All),
            Kind::Global => leaf(SelectorExpr::Global),
            Kind::Key(ref key) => leaf(self.comparison(key)?),
            Kind::LParen => self.group(&tok)?,
            _ => return Err(self.unexpected(&tok, "a label key, `has(…)`, `all()`, `global()`, `!` or `(`")),
        };
        if !negated {
            return Ok(inner);
        }
        // `!(!e)` keeps its parentheses when printed.
        let depth = if matches!(inner.expr, SelectorExpr::Not(_)) { nest(first, inner.depth + 1)? } else { inner.depth };
        Ok(Nested { expr: SelectorExpr::Not(Box::new(inner.expr)), depth })
    }

    fn group(&mut self, open: &Token) -> Result<Nested, SelectorError> {
        self.depth = nest(open.start, self.depth + 1)?;
        let inner = self.or_expr()?;
        self.depth -= 1;
        let close = self.bump()?;
        if !matches!(close.kind, Kind::RParen) {
            return Err(self.unexpected(&close, &format!("`&&`, `||` or `)` to close the `(` at byte {}", open.start)));
        }
        Ok(inner)
    }

    /// The operator and value(s) after `key`.
    fn comparison(&mut self, key: &str) -> Result<SelectorExpr, SelectorError> {
        let op = self.bump()?;
        let (name, build): (&str, fn(String, String) -> SelectorExpr) = match op.kind {
            Kind::Eq => ("==", SelectorExpr::Equals),
            Kind::Ne => ("!=", SelectorExpr::NotEquals),
            Kind::Contains => ("contains", SelectorExpr::Contains),
            Kind::StartsWith => ("starts with", SelectorExpr::StartsWith),
            Kind::EndsWith => ("ends with", SelectorExpr::EndsWith),
            Kind::In => return Ok(SelectorExpr::In(key.to_string(), self.set("in")?)),
            Kind::NotIn => return Ok(SelectorExpr::NotIn(key.to_string(), self.set("not in")?)),
            _ => {
                let expected =
                    format!("an operator after label key `{key}` (`==`, `!=`, `in`, `not in`, `contains`, `starts with` or `ends with`)");
                let mut e = self.unexpected(&op, &expected);
                if matches!(op.kind, Kind::LParen) && matches!(key, "has" | "all" | "global") {
                    e.message.push_str(&format!("; `{key}(` takes no space before the `(`"));
                }
                return Err(e);
            }
        };
        let value = self.bump()?;
        match value.kind {
            Kind::Value(v) => Ok(build(key.to_string(), v)),
            _ => Err(self.unexpected(&value, &format!("a quoted value after `{name}`"))),
        }
    }

    /// A set literal, sorted and without duplicates as Calico stores it
    /// (parser/stringset.go), so that equal sets compare equal.
    fn set(&mut self, op: &str) -> Result<Vec<String>, SelectorError> {
        let open = self.bump()?;
        if !matches!(open.kind, Kind::LBrace) {
            return Err(self.unexpected(&open, &format!("`{{` to start the set of values after `{op}`")));
        }
        let mut values = Vec::new();
        loop {
            let tok = self.bump()?;
            match tok.kind {
                Kind::Value(v) => values.push(v),
                Kind::RBrace => break,
                _ => return Err(self.unexpected(&tok, "a quoted value or `}` in the set")),
            }
            let sep = self.bump()?;
            match sep.kind {
                Kind::Comma => {}
                Kind::RBrace => break,
                _ => return Err(self.unexpected(&sep, "`,` or `}` after a value in the set")),
            }
        }
        values.sort();
        values.dedup();
        Ok(values)
    }
}

/// An expression, and how deep its printed form nests parentheses: `Display` puts
/// each `&&`/`||` chain in its own, as Calico does, so `a || b && (c)` prints as
/// `(a || (b && c))`. Bounding this, and not only the parentheses written, keeps the
/// printed form of everything that parses within the limit too.
struct Nested {
    expr: SelectorExpr,
    depth: usize,
}

/// `depth`, if it is within `MAX_DEPTH`; otherwise an error at `at`.
fn nest(at: usize, depth: usize) -> Result<usize, SelectorError> {
    if depth > MAX_DEPTH {
        let why = "each `(…)` counts, as do the parentheses Calico prints around every `&&` and `||` chain";
        return Err(error(at, format!("selector nests more than {MAX_DEPTH} levels deep; {why}")));
    }
    Ok(depth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SelectorExpr::*;

    fn s(text: &str) -> String {
        text.to_string()
    }

    fn ok(text: &str) -> SelectorExpr {
        parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn err(text: &str) -> SelectorError {
        match parse(text) {
            Ok(expr) => panic!("{text:?} should fail, parsed as {expr:?}"),
            Err(e) => e,
        }
    }

    fn not(e: SelectorExpr) -> SelectorExpr {
        Not(Box::new(e))
    }

    #[test]
    fn every_operator() {
        let cases = [
            ("all()", All),
            ("global()", Global),
            ("has(app)", Has(s("app"))),
            ("app == 'web'", Equals(s("app"), s("web"))),
            ("app != \"web\"", NotEquals(s("app"), s("web"))),
            ("tier in {'a', 'b'}", In(s("tier"), vec![s("a"), s("b")])),
            ("tier not in {'a'}", NotIn(s("tier"), vec![s("a")])),
            ("k starts with 'x'", StartsWith(s("k"), s("x"))),
            ("k ends with 'x'", EndsWith(s("k"), s("x"))),
            ("k contains 'x'", Contains(s("k"), s("x"))),
            ("!has(app)", not(Has(s("app")))),
            ("has(a) && has(b)", And(vec![Has(s("a")), Has(s("b"))])),
            ("has(a) || has(b)", Or(vec![Has(s("a")), Has(s("b"))])),
            ("(has(a))", Has(s("a"))),
        ];
        for (text, expr) in cases {
            assert_eq!(ok(text), expr, "{text}");
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let (a, b, c) = (Has(s("a")), Has(s("b")), Has(s("c")));
        assert_eq!(ok("has(a) || has(b) && has(c)"), Or(vec![a.clone(), And(vec![b.clone(), c.clone()])]));
        assert_eq!(ok("has(a) && has(b) || has(c)"), Or(vec![And(vec![a.clone(), b.clone()]), c.clone()]));
        assert_eq!(ok("(has(a) || has(b)) && has(c)"), And(vec![Or(vec![a.clone(), b.clone()]), c.clone()]));
        // `!` takes one operation, not the whole chain.
        assert_eq!(ok("!has(a) && has(b)"), And(vec![not(a.clone()), b.clone()]));
        assert_eq!(ok("!(has(a) && has(b))"), not(And(vec![a.clone(), b.clone()])));
        // Chains stay flat; parentheses make nested ones.
        assert_eq!(ok("has(a) && has(b) && has(c)"), And(vec![a.clone(), b.clone(), c.clone()]));
        assert_eq!(ok("(has(a) && has(b)) && has(c)"), And(vec![And(vec![a, b]), c]));
    }

    #[test]
    fn negations_collapse_like_calico() {
        // parser.go folds a run of `!` into one flag before the operation.
        assert_eq!(ok("!!has(a)"), Has(s("a")));
        assert_eq!(ok("!! ! has(a)"), not(Has(s("a"))));
        assert_eq!(ok("!(!has(a))"), not(not(Has(s("a")))));
        assert_eq!(ok("!a == 'b'"), not(Equals(s("a"), s("b"))));
        let many = format!("{}has(a)", "!".repeat(100_001));
        assert_eq!(ok(&many), not(Has(s("a"))));
    }

    /// The example of the docs' selector reference (docs.tigera.io, NetworkPolicy
    /// resource, "Selectors"):
    ///
    /// > `! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}`
    /// > Would be "bracketed" like this:
    /// > `((!(has(my-label)) || ((my-label starts with 'prod') && (role in {'frontend','business'}))`
    ///
    /// (Its meaning is checked by the evaluator's tests.)
    #[test]
    fn docs_precedence_example() {
        let expected = Or(vec![
            not(Has(s("my-label"))),
            And(vec![StartsWith(s("my-label"), s("prod")), In(s("role"), vec![s("business"), s("frontend")])]),
        ]);
        assert_eq!(ok("! has(my-label) || my-label starts with 'prod' && role in {'frontend','business'}"), expected);
    }

    /// Examples from the docs: the NetworkPolicy sample (`role == 'database'`), and
    /// the automatic-labels page's GlobalNetworkPolicy, whose `namespaceSelector:
    /// projectcalico.org/name in {"foo", "bar"}` picks the namespaces named foo and bar.
    #[test]
    fn docs_examples() {
        assert_eq!(ok("role == 'database'"), Equals(s("role"), s("database")));
        assert_eq!(ok(r#"projectcalico.org/name in {"foo", "bar"}"#), In(s("projectcalico.org/name"), vec![s("bar"), s("foo")]));
        assert_eq!(ok(r#"color == "red""#), Equals(s("color"), s("red")));
        assert_eq!(ok(r#"projectcalico.org/name == "baz""#), Equals(s("projectcalico.org/name"), s("baz")));
        assert_eq!(
            ok(r#"(foo == "bar") && (projectcalico.org/namespace == "some-namespace")"#),
            And(vec![Equals(s("foo"), s("bar")), Equals(s("projectcalico.org/namespace"), s("some-namespace"))])
        );
    }

    /// Spellings Calico's tokenizer accepts (tokenizer_test.go).
    #[test]
    fn tokenizer_edge_cases() {
        let cases = [
            (r#"a=="b""#, Equals(s("a"), s("b"))),
            (r#"contains contains "contains""#, Contains(s("contains"), s("contains"))),
            (r#"label contains"value""#, Contains(s("label"), s("value"))),
            (r#"label startswith "value""#, StartsWith(s("label"), s("value"))),
            (r#"label endswith "value""#, EndsWith(s("label"), s("value"))),
            (r#"startswith starts with "value""#, StartsWith(s("startswith"), s("value"))),
            ("label starts \t with 'v'", StartsWith(s("label"), s("v"))),
            (r#"a notin{"a","B"}"#, NotIn(s("a"), vec![s("B"), s("a")])),
            ("a not in {}", NotIn(s("a"), vec![])),
            ("a in {'x',}", In(s("a"), vec![s("x")])),
            (r#"a in {"z", "z", "x", "y", "x", "a"}"#, In(s("a"), vec![s("a"), s("x"), s("y"), s("z")])),
            ("has( calico/k8s_NS-.1/role )", Has(s("calico/k8s_NS-.1/role"))),
            ("all( )", All),
            ("global(\t)", Global),
            ("has == 'x'", Equals(s("has"), s("x"))),
            ("in in {'in'}", In(s("in"), vec![s("in")])),
            ("1-2 == ''", Equals(s("1-2"), s(""))),
            (r#"a in {"'", '"', "c"}"#, In(s("a"), vec![s("\""), s("'"), s("c")])),
            ("a == 'héllo wörld'", Equals(s("a"), s("héllo wörld"))),
            ("a == '\n'", Equals(s("a"), s("\n"))),
            ("a!='\"'", NotEquals(s("a"), s("\""))),
        ];
        for (text, expr) in cases {
            assert_eq!(ok(text), expr, "{text}");
        }
    }

    #[test]
    fn empty_selector_is_all() {
        assert_eq!(ok(""), All);
        assert_eq!(ok(" \t "), All);
    }

    /// Calico's `badSelectors` (parser_test.go), plus what its tokenizer rejects.
    #[test]
    fn rejects_what_calico_rejects() {
        let bad = [
            "b == b",
            "b contains b",
            "b starts with b",
            "b ends with b",
            "'b1' == b",
            "b",
            "a b",
            "!",
            r#"foo == "bar" &"#,
            r#"foo == "bar" |"#,
            "foo != ||",
            r#"foo in {"", ||"#,
            r#"foo in """#,
            r#""FOO"#,
            r#""FOO'"#,
            "'FOO",
            "(",
            r#"(a == "foo""#,
            ")",
            "()",
            "%",
            r#"a == "b" && %"#,
            r#"a == "b" || %"#,
            "a ",
            "has(foo) &&",
            r#"label starts foo "value""#,
            r#"label ends foo "value""#,
            r#"label squiggles "value""#,
            "a containsx 'v'",
            "a in {,}",
            "a in {'x',,}",
            "a in {'x' 'y'}",
            "has (a)",
            "all ()",
            "ALL()",
            "a IN {'x'}",
            "a == 'b'\n",
            "a == 'b'\r\n",
            "has(a) has(b)",
            "has(a))",
            "a = 'b'",
            "a == 'b' && && has(c)",
        ];
        for text in bad {
            err(text);
        }
    }

    #[test]
    fn key_length_limit() {
        let longest = "k".repeat(MAX_KEY_LEN);
        assert_eq!(ok(&format!("has({longest})")), Has(longest.clone()));
        assert_eq!(ok(&format!("{longest} == 'v'")), Equals(longest.clone(), s("v")));
        let e = err(&format!("a == 'v' || {longest}k == 'v'"));
        assert_eq!(e.offset, 12);
        assert!(e.message.contains("513 bytes"), "{}", e.message);
        assert_eq!(err(&format!("has( {longest}k)")).offset, 5);
    }

    #[test]
    fn nesting_is_bounded() {
        const TOO_DEEP: &str = "selector nests more than 64 levels deep; each `(…)` counts, as do the parentheses Calico prints around every `&&` and `||` chain";
        let deepest = format!("{}has(a){}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(ok(&deepest), Has(s("a")));
        let too_deep = format!("{}has(a){}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        let e = err(&too_deep);
        assert_eq!((e.offset, e.message.as_str()), (MAX_DEPTH, TOO_DEEP));
        // Far deeper than any stack would take: an error, not an overflow.
        let e = err(&"!(".repeat(1_000_000));
        assert_eq!(e.offset, 2 * MAX_DEPTH + 1);
    }

    /// `a || b && (…)` nests one `(` per level as written, but prints with two (the
    /// `&&` chain inside the `||` one gets its own), so the limit is on the printed
    /// form: whatever parses also parses again after printing.
    #[test]
    fn nesting_counts_printed_parentheses() {
        fn nested(levels: usize) -> String {
            format!("{}has(z){}", "has(a) || has(b) && (".repeat(levels), ")".repeat(levels))
        }
        // Each level adds the `||` chain and the `&&` chain inside it.
        let deepest = ok(&nested(MAX_DEPTH / 2));
        assert_eq!(ok(&deepest.to_string()), deepest);
        let e = err(&nested(MAX_DEPTH / 2 + 1));
        assert!(e.message.starts_with("selector nests more than 64 levels deep"), "{}", e.message);
        // Reported at the operator of the chain that goes over: the outermost `&&`.
        assert_eq!(e.offset, "has(a) || has(b) ".len());
        let negations = format!("{}has(a){}", "!(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        let expr = ok(&negations);
        assert_eq!(ok(&expr.to_string()), expr);
    }

    /// Each error points at the token that is wrong and says what was expected there.
    #[test]
    fn located_errors() {
        let cases: &[(&str, usize, &str)] = &[
            ("app == web", 7, "expected a quoted value after `==`, found `web`"),
            ("app == 'web", 7, "unterminated value: no closing ' for the ' that starts it"),
            ("app = 'web'", 4, "expected `==`, found a single `=`"),
            ("has(a) & has(b)", 7, "expected `&&`, found a single `&`"),
            ("has(a) | has(b)", 7, "expected `||`, found a single `|`"),
            (
                "app is 'web'",
                4,
                "expected an operator after label key `app` (`==`, `!=`, `in`, `not in`, `contains`, `starts with` or `ends with`), found `is`",
            ),
            ("tier in ('a')", 8, "expected `{` to start the set of values after `in`, found `(`"),
            ("tier in {'a' 'b'}", 13, "expected `,` or `}` after a value in the set, found `'b'`"),
            ("tier not in {'a', b}", 18, "expected a quoted value or `}` in the set, found `b`"),
            ("(has(a) || has(b)", 17, "expected `&&`, `||` or `)` to close the `(` at byte 0, found the end of the selector"),
            ("has(a))", 6, "unmatched `)`: there is no open `(` for it to close"),
            ("has(a) has(b)", 7, "expected `&&`, `||` or the end of the selector, found `has(b)`"),
            ("has(a) && ", 10, "expected a label key, `has(…)`, `all()`, `global()`, `!` or `(`, found the end of the selector"),
            ("has()", 4, "expected a label key after `has(`, found `)`"),
            ("has(a b)", 6, "expected `)` to close `has(a`, found `b`"),
            ("all(x)", 4, "expected `)` to close `all(`, found `x`"),
            ("a == 'b' && é == 'c'", 12, "expected a label key, `has(…)`, `all()`, `global()`, `!` or `(`, found `é`"),
            (
                "a == 'b'\n&& has(c)",
                8,
                "expected `&&`, `||` or the end of the selector, found `\\n` (only spaces and tabs may separate the parts of a selector)",
            ),
            (
                "has (a)",
                4,
                "expected an operator after label key `has` (`==`, `!=`, `in`, `not in`, `contains`, `starts with` or `ends with`), found `(`; `has(` takes no space before the `(`",
            ),
            ("!", 1, "expected a label key, `has(…)`, `all()`, `global()`, `!` or `(`, found the end of the selector"),
            ("'b1' == b", 0, "expected a label key, `has(…)`, `all()`, `global()`, `!` or `(`, found `'b1'`"),
        ];
        for (text, offset, message) in cases {
            let e = err(text);
            assert_eq!((e.offset, e.message.as_str()), (*offset, *message), "{text:?}");
        }
        assert_eq!(err("app == web").to_string(), "expected a quoted value after `==`, found `web` (at byte 7)");
    }

    /// Calico's own canonicalisation tests (parser_test.go): our `Display` gives the
    /// same text, and that text parses back to the same tree.
    #[test]
    fn display_matches_calico_and_round_trips() {
        let cases = [
            ("", "all()"),
            (" all() ", "all()"),
            (" (all() )", "all()"),
            ("! (has( b)||! has(a ))", "!(has(b) || !has(a))"),
            (r#"! (a == "b"&&! c != "d")"#, r#"!(a == "b" && !c != "d")"#),
            (r#"a == "'""#, r#"a == "'""#),
            (r#"a == '"'"#, r#"a == '"'"#),
            (r#"a contains '"'"#, r#"a contains '"'"#),
            (r#"a startswith '"'"#, r#"a starts with '"'"#),
            (r#"a endswith "'""#, r#"a ends with "'""#),
            (r#"a!='"'"#, r#"a != '"'"#),
            (r#"a in {"d", "a", "b"}"#, r#"a in {"a", "b", "d"}"#),
            (r#"a in {"z", "z", "x", "y", "x", "a"}"#, r#"a in {"a", "x", "y", "z"}"#),
            ("!(!(k == 'v' && has(t) || all()) && (a in {'b', 'c'}))", r#"!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})"#),
            ("!(!has(a))", "!(!has(a))"),
            ("!!has(a)", "has(a)"),
            ("(has(a) && has(b)) && has(c)", "((has(a) && has(b)) && has(c))"),
        ];
        for (input, canonical) in cases {
            let expr = ok(input);
            assert_eq!(expr.to_string(), canonical, "{input}");
            assert_eq!(ok(canonical), expr, "{canonical}");
        }
    }

    #[test]
    fn serializes_with_operator_tags() {
        let json = serde_json::to_string(&ok("app == 'web' && !global()")).unwrap_or_default();
        assert_eq!(json, r#"{"op":"and","args":[{"op":"equals","args":["app","web"]},{"op":"not","args":{"op":"global"}}]}"#);
    }
}
