//! Reading the dump onto one flat tape of nodes whose strings borrow from the text, and
//! where each element of the `nftables` array lies.

use super::*;

/// The dump as `nft` prints it, `{"nftables": [...]}` and nothing else, read onto `tape` in
/// one pass: where each element starts on the tape, and its position in the text. `None`
/// for anything else, which the caller reads through `Value`: an error then carries
/// serde_json's own message and position.
pub(super) fn read_plain<'a>(text: &'a str, tape: &mut Vec<Node<'a>>) -> Option<(Vec<usize>, Vec<Pos>)> {
    tape.reserve(text.len() / 16);
    let mut de = serde_json::Deserializer::from_str(text);
    let roots = de::Deserializer::deserialize_map(&mut de, PlainRoot { tape: &mut *tape }).ok()?;
    de.end().ok()?;
    let positions = match key_positions(text, tape, &roots) {
        Some(p) => p,
        None => element_positions(text),
    };
    Some((roots, positions))
}

/// The root object when its one key is `nftables` and its value an array: its elements
/// onto the tape. Any other shape is an error here (and read through `Value`).
pub(super) struct PlainRoot<'x, 'de> {
    tape: &'x mut Vec<Node<'de>>,
}

impl<'de> Visitor<'de> for PlainRoot<'_, 'de> {
    type Value = Vec<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{\"nftables\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if map.next_key_seed(KeySeed)?.as_deref() != Some("nftables") {
            return Err(de::Error::custom("not the plain layout"));
        }
        let roots = map.next_value_seed(Elements { tape: self.tape })?;
        if map.next_key_seed(KeySeed)?.is_some() {
            return Err(de::Error::custom("not the plain layout"));
        }
        Ok(roots)
    }
}

/// The `nftables` array: each element onto the tape, where it starts there.
pub(super) struct Elements<'x, 'de> {
    tape: &'x mut Vec<Node<'de>>,
}

impl<'de> DeserializeSeed<'de> for Elements<'_, 'de> {
    type Value = Vec<usize>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Vec<usize>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_, 'de> {
    type Value = Vec<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<usize>, A::Error> {
        let mut roots = Vec::new();
        loop {
            let at = self.tape.len();
            if seq.next_element_seed(TapeSeed { tape: &mut *self.tape, depth: 0 })?.is_none() {
                return Ok(roots);
            }
            roots.push(at);
        }
    }
}

/// Line and column of each element, found from its first key: the key's text lies in
/// `text`, and the element's `{` is the last character before the key's quote that is not
/// whitespace. Lines are counted by `\n` and columns in characters, as
/// [`element_positions`] counts them. `None` when an element is not an object starting with
/// a key read straight from the text (one with escapes): the caller scans the text instead.
pub(super) fn key_positions(text: &str, tape: &[Node<'_>], roots: &[usize]) -> Option<Vec<Pos>> {
    let base = text.as_ptr() as usize;
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(roots.len());
    let (mut at, mut line, mut column) = (0usize, 1usize, 0usize);
    for &root in roots {
        let (Some(Node::Object { .. }), Some(Node::Key(Cow::Borrowed(key)))) = (tape.get(root), tape.get(root + 1)) else {
            return None;
        };
        let quote = (key.as_ptr() as usize).checked_sub(base)?.checked_sub(1)?;
        if bytes.get(quote) != Some(&b'"') {
            return None;
        }
        let offset = bytes.get(..quote)?.iter().rposition(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
        if bytes.get(offset) != Some(&b'{') || offset < at {
            return None;
        }
        let between = text.get(at..offset)?;
        if !between.as_bytes().contains(&b'\n') {
            column += between.chars().count();
        } else {
            line += between.bytes().filter(|&b| b == b'\n').count();
            column = between.rsplit('\n').next().unwrap_or_default().chars().count();
        }
        at = offset;
        out.push(Pos { line: u32::try_from(line).ok()?, column: u32::try_from(column + 1).ok()? });
    }
    Some(out)
}

/// One node of the JSON tape: the dump's values in document order, strings borrowed from
/// the text where they have no escapes. An array's or object's nodes follow it, up to its
/// `end`; an object's are each entry's key, then the value's nodes. One vector holds the
/// whole dump, instead of an allocation per object, array, key and string as in `Value`.
#[derive(Debug)]
pub(super) enum Node<'a> {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(Cow<'a, str>),
    Key(Cow<'a, str>),
    Array { end: usize },
    Object { end: usize },
}

/// A value on the tape. Read like a `Value`: a repeated key reads as its last value, and
/// [`J::first_entry`] is the smallest key, as in `Value`'s sorted map.
#[derive(Debug, Clone, Copy)]
pub(super) struct J<'t> {
    pub(super) tape: &'t [Node<'t>],
    pub(super) at: usize,
}

/// An array on the tape.
#[derive(Debug, Clone, Copy)]
pub(super) struct Arr<'t> {
    tape: &'t [Node<'t>],
    start: usize,
    end: usize,
}

impl<'t> Arr<'t> {
    pub(super) const EMPTY: Arr<'static> = Arr { tape: &[], start: 0, end: 0 };

    pub(super) fn iter(self) -> impl Iterator<Item = J<'t>> {
        let mut at = self.start;
        std::iter::from_fn(move || {
            (at < self.end).then(|| {
                let item = J { tape: self.tape, at };
                at = item.end();
                item
            })
        })
    }

    pub(super) fn first(self) -> Option<J<'t>> {
        self.iter().next()
    }

    pub(super) fn get(self, i: usize) -> Option<J<'t>> {
        self.iter().nth(i)
    }
}

pub(super) fn push_value<'a>(tape: &mut Vec<Node<'a>>, v: &'a Value) {
    match v {
        Value::Null => tape.push(Node::Null),
        Value::Bool(b) => tape.push(Node::Bool(*b)),
        Value::Number(n) => tape.push(Node::Number(n.clone())),
        Value::String(s) => tape.push(Node::String(Cow::Borrowed(s))),
        Value::Array(a) => {
            let at = tape.len();
            tape.push(Node::Array { end: 0 });
            for v in a {
                push_value(tape, v);
            }
            close(tape, at);
        }
        Value::Object(o) => {
            let at = tape.len();
            tape.push(Node::Object { end: 0 });
            for (k, v) in o {
                tape.push(Node::Key(Cow::Borrowed(k)));
                push_value(tape, v);
            }
            close(tape, at);
        }
    }
}

/// Sets the end of the array or object opened at `at` to the tape's end.
pub(super) fn close(tape: &mut [Node<'_>], at: usize) {
    let len = tape.len();
    if let Some(Node::Array { end } | Node::Object { end }) = tape.get_mut(at) {
        *end = len;
    }
}

impl<'t> J<'t> {
    pub(super) fn node(self) -> Option<&'t Node<'t>> {
        self.tape.get(self.at)
    }

    /// Where the nodes after this value start.
    pub(super) fn end(self) -> usize {
        match self.node() {
            Some(Node::Array { end } | Node::Object { end }) => *end,
            _ => self.at + 1,
        }
    }

    /// An object's entries in order (none for anything else).
    pub(super) fn entries(self) -> impl Iterator<Item = (&'t str, J<'t>)> {
        let (mut at, end) = match self.node() {
            Some(Node::Object { end }) => (self.at + 1, *end),
            _ => (0, 0),
        };
        std::iter::from_fn(move || {
            if at >= end {
                return None;
            }
            let key = match self.tape.get(at) {
                Some(Node::Key(k)) => k.as_ref(),
                _ => "",
            };
            let value = J { tape: self.tape, at: at + 1 };
            at = value.end();
            Some((key, value))
        })
    }

    /// As a `Value`, for printing it as JSON.
    pub(super) fn to_value(self) -> Value {
        match self.node() {
            None | Some(Node::Null | Node::Key(_)) => Value::Null,
            Some(Node::Bool(b)) => Value::Bool(*b),
            Some(Node::Number(n)) => Value::Number(n.clone()),
            Some(Node::String(s)) => Value::String(s.to_string()),
            Some(Node::Array { .. }) => Value::Array(self.as_array().unwrap_or(Arr::EMPTY).iter().map(J::to_value).collect()),
            // Inserted in order: a repeated key keeps its last value.
            Some(Node::Object { .. }) => Value::Object(self.entries().map(|(k, v)| (k.to_string(), v.to_value())).collect()),
        }
    }

    pub(super) fn get(self, key: &str) -> Option<J<'t>> {
        self.entries().filter(|(k, _)| *k == key).last().map(|(_, v)| v)
    }

    pub(super) fn contains_key(self, key: &str) -> bool {
        self.entries().any(|(k, _)| k == key)
    }

    pub(super) fn as_str(self) -> Option<&'t str> {
        match self.node() {
            Some(Node::String(s)) => Some(s),
            _ => None,
        }
    }

    pub(super) fn is(self, s: &str) -> bool {
        self.as_str() == Some(s)
    }

    pub(super) fn as_array(self) -> Option<Arr<'t>> {
        match self.node() {
            Some(Node::Array { end }) => Some(Arr { tape: self.tape, start: self.at + 1, end: *end }),
            _ => None,
        }
    }

    pub(super) fn as_number(self) -> Option<&'t serde_json::Number> {
        match self.node() {
            Some(Node::Number(n)) => Some(n),
            _ => None,
        }
    }

    pub(super) fn as_u64(self) -> Option<u64> {
        self.as_number().and_then(serde_json::Number::as_u64)
    }

    /// The entry `Value` would iterate first: the smallest key, with its last value.
    pub(super) fn first_entry(self) -> Option<(&'t str, J<'t>)> {
        let mut first: Option<(&'t str, J<'t>)> = None;
        for (k, v) in self.entries() {
            match first {
                Some((f, _)) if k > f => {}
                _ => first = Some((k, v)),
            }
        }
        first
    }
}

/// Compact JSON, as `Value` prints it.
impl fmt::Display for J<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.node() {
            Some(Node::Null) => f.write_str("null"),
            Some(Node::Bool(b)) => write!(f, "{b}"),
            Some(Node::Number(n)) => write!(f, "{n}"),
            _ => write!(f, "{}", self.to_value()),
        }
    }
}

/// Nesting an element may have and still be read onto the tape here: well below
/// serde_json's limit for the whole document (where an element sits two levels down).
/// Deeper elements are read through `Value`, which reports the limit as it always did.
pub(super) const MAX_DEPTH: u32 = 100;

/// Reads a value onto the tape, at a nesting depth.
pub(super) struct TapeSeed<'x, 'de> {
    tape: &'x mut Vec<Node<'de>>,
    depth: u32,
}

impl<'de> DeserializeSeed<'de> for TapeSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TapeSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.tape.push(Node::Bool(v));
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.tape.push(Node::Number(v.into()));
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.tape.push(Node::Number(v.into()));
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.tape.push(serde_json::Number::from_f64(v).map_or(Node::Null, Node::Number));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.tape.push(Node::String(Cow::Owned(v.to_string())));
        Ok(())
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.tape.push(Node::String(Cow::Borrowed(v)));
        Ok(())
    }

    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.tape.push(Node::String(Cow::Owned(v)));
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.tape.push(Node::Null);
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.tape.push(Node::Null);
        Ok(())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("nested too deeply"));
        }
        let at = self.tape.len();
        self.tape.push(Node::Array { end: 0 });
        while seq.next_element_seed(TapeSeed { tape: &mut *self.tape, depth: self.depth + 1 })?.is_some() {}
        close(self.tape, at);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(de::Error::custom("nested too deeply"));
        }
        let at = self.tape.len();
        self.tape.push(Node::Object { end: 0 });
        while let Some(key) = map.next_key_seed(KeySeed)? {
            self.tape.push(Node::Key(key));
            map.next_value_seed(TapeSeed { tape: &mut *self.tape, depth: self.depth + 1 })?;
        }
        close(self.tape, at);
        Ok(())
    }
}

/// An object key, borrowed unless it has escapes.
pub(super) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// Line and column of each element of the top-level `nftables` array, by scanning the
/// text.
pub(super) fn element_positions(text: &str) -> Vec<Pos> {
    super::super::iproute::array_element_positions(text, 2).into_iter().map(|(line, column)| Pos { line, column }).collect()
}
