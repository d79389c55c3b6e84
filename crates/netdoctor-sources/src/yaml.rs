//! YAML text into a position-keeping `Node` tree, with limits that keep hostile input
//! (alias bombs, deep nesting, huge files) from exhausting memory or the stack.
//!
//! The tree is built from `saphyr-parser` events with an explicit stack of open
//! collections, so neither building nor dropping a tree recurses deeper than the
//! nesting limit. Anchors, aliases and `<<` merge keys are resolved while building.

use crate::error::{LoadError, Result};
use crate::tree::{Entry, Node, Scalar, Value};
use netdoctor_model::Span;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span as EventSpan, Tag};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// Largest input accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Deepest nesting of collections accepted. Kept below the scanner's own limit of 255
/// flow levels, so that the message about that limit (which names this one) stays true.
pub const MAX_DEPTH: usize = 128;
/// Most nodes a document may have once aliases are expanded.
pub const MAX_NODES: usize = 1_000_000;

/// Parses one YAML document (a Compose file holds exactly one).
pub fn parse(text: &str, file: Arc<Path>) -> Result<Node> {
    parse_with_tags(text, file).map(|(root, _)| root)
}

/// Parses a stream of YAML documents separated by `---` (a Kubernetes manifest file
/// may hold many). Empty documents are left out, so a file of comments gives an empty
/// list. The limits apply to the whole stream; anchors are local to their document.
pub fn parse_documents(text: &str, file: Arc<Path>) -> Result<Vec<Node>> {
    check_text(text, &file)?;
    let mut builder = Builder::new(file.clone());
    builder.multi = true;
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| scan_error(&file, &e))?;
        if builder.on_event(event, span)? == Flow::Done {
            break;
        }
    }
    Ok(builder.roots.into_iter().filter(|n| !n.is_null()).collect())
}

/// Parses one YAML document and also returns where the Compose merge tags were used.
pub fn parse_with_tags(text: &str, file: Arc<Path>) -> Result<(Node, MergeTags)> {
    check_text(text, &file)?;
    let mut builder = Builder::new(file.clone());
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| scan_error(&file, &e))?;
        if builder.on_event(event, span)? == Flow::Done {
            break;
        }
    }
    builder.finish()
}

/// Checks that raw file contents are UTF-8 text within the size limit, and returns them
/// as text. Problems are reported at the first offending byte.
pub fn decode<'a>(bytes: &'a [u8], file: &Path) -> Result<&'a str> {
    check_size(bytes.len(), file)?;
    let text = std::str::from_utf8(bytes).map_err(|e| not_text(bytes, e.valid_up_to(), "invalid utf-8", file))?;
    check_text(text, file)?;
    Ok(text)
}

/// Spans of the nodes tagged `!reset` (drop the inherited value) or `!override`
/// (replace it instead of merging), as the Compose spec defines for merging files.
#[derive(Debug, Clone, Default)]
pub struct MergeTags {
    reset: HashSet<Span>,
    replace: HashSet<Span>,
}

impl MergeTags {
    /// Whether the node at `span` was tagged `!reset`.
    pub fn is_reset(&self, span: &Span) -> bool {
        self.reset.contains(span)
    }

    /// Whether the node at `span` was tagged `!override`.
    pub fn is_override(&self, span: &Span) -> bool {
        self.replace.contains(span)
    }

    /// Adds the tags of another file.
    pub fn extend(&mut self, other: MergeTags) {
        self.reset.extend(other.reset);
        self.replace.extend(other.replace);
    }

    fn record(&mut self, tag: Option<&Tag>, span: &Span) {
        match tag {
            Some(t) if t.handle == "!" && t.suffix == "reset" => {
                self.reset.insert(span.clone());
            }
            Some(t) if t.handle == "!" && t.suffix == "override" => {
                self.replace.insert(span.clone());
            }
            _ => {}
        }
    }
}

/// The size limit, reported at 1:1.
fn check_size(len: usize, file: &Path) -> Result<()> {
    if len <= MAX_FILE_BYTES {
        return Ok(());
    }
    let message = format!("file is {len} bytes, over the limit of {MAX_FILE_BYTES} bytes (10 MiB); a compose file is never this big");
    Err(LoadError::at(&Span::new(Arc::from(file), 1, 1), message))
}

/// Size limit and NUL bytes (binary or UTF-16 input) of text that is already UTF-8.
fn check_text(text: &str, file: &Path) -> Result<()> {
    check_size(text.len(), file)?;
    match text.find('\0') {
        Some(offset) => Err(not_text(text.as_bytes(), offset, "a NUL byte", file)),
        None => Ok(()),
    }
}

fn not_text(bytes: &[u8], offset: usize, what: &str, file: &Path) -> LoadError {
    let (line, column) = position_of(bytes, offset);
    let message = format!("not a text file: {what} at {line}:{column}; compose files are utf-8 text");
    LoadError::at(&Span::new(Arc::from(file), line, column), message)
}

/// The 1-based line and column of a byte offset; everything before `offset` is UTF-8.
fn position_of(bytes: &[u8], offset: usize) -> (u32, u32) {
    let prefix = bytes.get(..offset).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("");
    let line = prefix.matches('\n').count() + 1;
    let column = prefix.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (to_u32(line), to_u32(column))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn scan_error(file: &Arc<Path>, e: &ScanError) -> LoadError {
    let span = Span::new(file.clone(), to_u32(e.marker().line()), to_u32(e.marker().col() + 1));
    // The scanner looks ahead through flow collections (`[[[[`) and hits its own depth
    // limit before the builder sees the events.
    if e.info() == "recursion limit exceeded" {
        return too_deep(&span);
    }
    LoadError::at(&span, format!("invalid yaml: {}", e.info()))
}

fn too_deep(span: &Span) -> LoadError {
    let message = format!("nesting deeper than {MAX_DEPTH} levels at {}:{}; compose files are never this deep", span.line, span.column);
    LoadError::at(span, message)
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    More,
    Done,
}

/// A node with the bookkeeping the limits need.
struct Built {
    node: Node,
    /// Nodes in the subtree, the node itself included.
    size: usize,
    /// Collection levels in the subtree (0 for a scalar).
    height: usize,
}

/// A collection whose end event has not arrived yet.
struct Frame {
    span: Span,
    anchor: usize,
    size: usize,
    height: usize,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map(MapFrame),
}

#[derive(Default)]
struct MapFrame {
    entries: Vec<Entry>,
    /// Keys written in this mapping, for the duplicate check.
    seen: HashMap<String, Span>,
    /// The key whose value comes next, and whether it is the merge key `<<`.
    pending: Option<(String, Span, bool)>,
    /// `<<` values, with the entry index they were written at.
    merges: Vec<(usize, Node)>,
}

struct Builder {
    file: Arc<Path>,
    frames: Vec<Frame>,
    anchors: HashMap<usize, Built>,
    nodes: usize,
    expanded_alias: bool,
    documents: usize,
    root: Option<Node>,
    tags: MergeTags,
    /// Accept several documents, collecting their roots in `roots`.
    multi: bool,
    roots: Vec<Node>,
}

impl Builder {
    fn new(file: Arc<Path>) -> Self {
        Builder {
            file,
            frames: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            expanded_alias: false,
            documents: 0,
            root: None,
            tags: MergeTags::default(),
            multi: false,
            roots: Vec::new(),
        }
    }

    fn span(&self, span: &EventSpan) -> Span {
        Span::new(self.file.clone(), to_u32(span.start.line()), to_u32(span.start.col() + 1))
    }

    fn on_event(&mut self, event: Event<'_>, at: EventSpan) -> Result<Flow> {
        let span = self.span(&at);
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.multi {
                    self.anchors.clear();
                } else if self.documents > 1 {
                    let message = "more than one yaml document (`---`); a compose file holds exactly one";
                    return Err(LoadError::at(&span, message));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, &span)?;
                self.tags.record(tag.as_deref(), &span);
                let node = scalar_node(text.into_owned(), style, tag.as_deref(), span);
                self.complete(Built { node, size: 1, height: 0 }, anchor)?;
            }
            Event::SequenceStart(anchor, tag) => self.open(FrameKind::Seq(Vec::new()), anchor, tag.as_deref(), span)?,
            Event::MappingStart(anchor, tag) => self.open(FrameKind::Map(MapFrame::default()), anchor, tag.as_deref(), span)?,
            Event::SequenceEnd | Event::MappingEnd => self.close()?,
            Event::Alias(id) => self.alias(id, &span)?,
            Event::StreamEnd => return Ok(Flow::Done),
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
        }
        Ok(Flow::More)
    }

    fn finish(self) -> Result<(Node, MergeTags)> {
        match self.root {
            Some(root) if !root.is_null() => Ok((root, self.tags)),
            _ => Err(LoadError::empty(&self.file, "empty compose file: it has no content besides comments")),
        }
    }

    fn count(&mut self, size: usize, span: &Span) -> Result<()> {
        self.nodes = self.nodes.saturating_add(size);
        if self.nodes <= MAX_NODES {
            return Ok(());
        }
        let message = if self.expanded_alias {
            format!("too many nodes after expanding aliases (alias bomb?): more than {MAX_NODES}")
        } else {
            format!("too many nodes: the document has more than {MAX_NODES}")
        };
        Err(LoadError::at(span, message))
    }

    fn check_depth(&self, extra: usize, span: &Span) -> Result<()> {
        if self.frames.len() + extra <= MAX_DEPTH {
            return Ok(());
        }
        Err(too_deep(span))
    }

    fn open(&mut self, kind: FrameKind, anchor: usize, tag: Option<&Tag>, span: Span) -> Result<()> {
        self.check_depth(1, &span)?;
        self.count(1, &span)?;
        self.tags.record(tag, &span);
        self.frames.push(Frame { span, anchor, size: 1, height: 1, kind });
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        let Some(frame) = self.frames.pop() else { return Ok(()) };
        let value = match frame.kind {
            FrameKind::Seq(items) => Value::Seq(items),
            FrameKind::Map(map) => Value::Map(apply_merges(map)?),
        };
        let node = Node::new(value, frame.span);
        self.complete(Built { node, size: frame.size, height: frame.height }, frame.anchor)
    }

    fn alias(&mut self, id: usize, span: &Span) -> Result<()> {
        let Some(target) = self.anchors.get(&id) else {
            return Err(LoadError::at(span, "alias refers to an anchor that is not defined yet (or to itself)"));
        };
        let (size, height) = (target.size, target.height);
        self.expanded_alias = true;
        self.check_depth(height, span)?;
        // Counted before cloning, so a bomb is stopped before it allocates.
        self.count(size, span)?;
        let Some(node) = self.anchors.get(&id).map(|t| t.node.clone()) else { return Ok(()) };
        self.complete(Built { node, size, height }, 0)
    }

    /// Hands a finished node to the collection it belongs to.
    fn complete(&mut self, built: Built, anchor: usize) -> Result<()> {
        if anchor > 0 {
            let copy = Built { node: built.node.clone(), size: built.size, height: built.height };
            self.anchors.insert(anchor, copy);
        }
        let Some(parent) = self.frames.last_mut() else {
            if self.multi {
                self.roots.push(built.node);
            } else {
                self.root = Some(built.node);
            }
            return Ok(());
        };
        parent.size = parent.size.saturating_add(built.size);
        parent.height = parent.height.max(built.height + 1);
        match &mut parent.kind {
            FrameKind::Seq(items) => items.push(built.node),
            FrameKind::Map(map) => map.accept(built.node)?,
        }
        Ok(())
    }
}

impl MapFrame {
    /// Takes the next key or value of the mapping.
    fn accept(&mut self, node: Node) -> Result<()> {
        let Some((key, key_span, is_merge)) = self.pending.take() else {
            return self.accept_key(node);
        };
        if is_merge {
            self.merges.push((self.entries.len(), node));
        } else {
            self.entries.push(Entry { key, key_span, value: node });
        }
        Ok(())
    }

    fn accept_key(&mut self, node: Node) -> Result<()> {
        let (key, is_merge) = match node.value {
            Value::Scalar(Scalar { text, quoted }) => {
                let is_merge = !quoted && text == "<<";
                (text, is_merge)
            }
            Value::Null => (String::new(), false),
            Value::Map(_) => {
                // `name: {{ .Values.x }}` reads as a mapping used as a key.
                let message = "mapping keys must be strings, found a mapping (an unrendered `{{ … }}` template?)";
                return Err(LoadError::at(&node.span, message));
            }
            Value::Seq(_) => return Err(LoadError::at(&node.span, "mapping keys must be strings, found a list")),
        };
        if let Some(first) = self.seen.get(&key) {
            let message = format!("duplicate key `{key}` in this mapping (first at {}:{}); remove one of them", first.line, first.column);
            return Err(LoadError::at(&node.span, message));
        }
        self.seen.insert(key.clone(), node.span.clone());
        self.pending = Some((key, node.span, is_merge));
        Ok(())
    }
}

/// Resolves `<<` merge keys: keys written in the mapping win over merged ones, and among
/// merged mappings the earlier one wins (YAML merge key spec). Merged entries take the
/// place of the `<<` key.
fn apply_merges(map: MapFrame) -> Result<Vec<Entry>> {
    if map.merges.is_empty() {
        return Ok(map.entries);
    }
    let mut taken: HashSet<String> = map.seen.into_keys().collect();
    let mut inserts: Vec<(usize, Vec<Entry>)> = Vec::new();
    for (at, value) in map.merges {
        let mut merged = Vec::new();
        for source in merge_sources(value)? {
            for entry in source {
                if taken.insert(entry.key.clone()) {
                    merged.push(entry);
                }
            }
        }
        inserts.push((at, merged));
    }
    let mut entries = Vec::new();
    let mut pending = inserts.into_iter().peekable();
    for (index, entry) in map.entries.into_iter().enumerate() {
        while let Some((_, merged)) = pending.next_if(|(at, _)| *at == index) {
            entries.extend(merged);
        }
        entries.push(entry);
    }
    for (_, merged) in pending {
        entries.extend(merged);
    }
    Ok(entries)
}

/// The mappings a `<<` value names: one mapping or a list of them.
fn merge_sources(value: Node) -> Result<Vec<Vec<Entry>>> {
    let span = value.span.clone();
    let kind = value.kind_name();
    let not_mapping = || LoadError::at(&span, format!("`<<` merges mappings, found {kind}"));
    match value.value {
        Value::Map(entries) => Ok(vec![entries]),
        Value::Seq(items) => items
            .into_iter()
            .map(|item| match item.value {
                Value::Map(entries) => Ok(entries),
                _ => Err(not_mapping()),
            })
            .collect(),
        _ => Err(not_mapping()),
    }
}

fn scalar_node(text: String, style: ScalarStyle, tag: Option<&Tag>, span: Span) -> Node {
    let core = |suffix: &str| tag.is_some_and(|t| t.is_yaml_core_schema() && t.suffix == suffix);
    let plain = style == ScalarStyle::Plain && !core("str");
    if core("null") || (plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")) {
        return Node::new(Value::Null, span);
    }
    Node::new(Value::Scalar(Scalar { text, quoted: !plain }), span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn file() -> Arc<Path> {
        Arc::from(Path::new("compose.yaml"))
    }

    fn ok(text: &str) -> Node {
        match parse(text, file()) {
            Ok(node) => node,
            Err(e) => panic!("{text:?} failed: {e}"),
        }
    }

    fn err(text: &str) -> LoadError {
        match parse(text, file()) {
            Ok(node) => panic!("{text:?} parsed as {node}"),
            Err(e) => e,
        }
    }

    #[test]
    fn renders_values() {
        let cases = [
            ("a: 1", "{a: 1}"),
            ("a: [1, 2]\nb: {c: d}", "{a: [1, 2], b: {c: d}}"),
            ("- x\n- y", "[x, y]"),
            ("a: ~\nb: null\nc:\nd: ''", "{a: null, b: null, c: null, d: }"),
            ("base: &b {x: 1, y: 2}\nuse: *b", "{base: {x: 1, y: 2}, use: {x: 1, y: 2}}"),
            ("b: &b {x: 1, y: 2}\nu:\n  <<: *b\n  y: 3", "{b: {x: 1, y: 2}, u: {x: 1, y: 3}}"),
            ("b: &b {x: 1}\nc: &c {x: 2, z: 3}\nu: {<<: [*b, *c], k: v}", "{b: {x: 1}, c: {x: 2, z: 3}, u: {x: 1, z: 3, k: v}}"),
            ("u: {k: v, <<: {k: w, m: n}}", "{u: {k: v, m: n}}"),
            ("'<<': x", "{<<: x}"),
            ("a: !!str null", "{a: null}"),
            ("s: |\n  line\n", "{s: line\n}"),
            ("---\na: 1\n...\n", "{a: 1}"),
        ];
        for (text, want) in cases {
            assert_eq!(ok(text).to_string(), want, "{text:?}");
        }
    }

    #[test]
    fn keeps_quoting_and_nulls() {
        let root = ok("a: \"5\"\nb: 5\nc: ~\nd: '~'\ne: !!str 7");
        let quoted = |k: &str| match root.get(k).map(|n| &n.value) {
            Some(Value::Scalar(s)) => Some(s.quoted),
            _ => None,
        };
        assert_eq!(quoted("a"), Some(true));
        assert_eq!(quoted("b"), Some(false));
        assert_eq!(quoted("c"), None);
        assert_eq!(quoted("d"), Some(true));
        assert_eq!(quoted("e"), Some(true));
    }

    #[test]
    fn spans_are_one_based() {
        let root = ok("services:\n  web:\n    image: nginx\n    ports: ['80:80']\n");
        let web = root.get("services").and_then(|s| s.entry("web"));
        let Some(web) = web else { panic!("no web") };
        assert_eq!((web.key_span.line, web.key_span.column), (2, 3));
        let image = web.value.get("image").map(|n| (n.span.line, n.span.column));
        assert_eq!(image, Some((3, 12)));
        let port = web.value.get("ports").and_then(|p| p.as_seq()).and_then(|s| s.first());
        assert_eq!(port.map(|n| (n.span.line, n.span.column)), Some((4, 13)));
    }

    #[test]
    fn alias_keeps_the_anchor_span() {
        let root = ok("a: &x hello\nb: *x\n");
        assert_eq!(root.get("b").map(|n| n.span.line), Some(1));
    }

    #[test]
    fn rejects_bad_input_with_a_location() {
        let cases: &[(&str, &str, u32)] = &[
            ("", "empty compose file", 0),
            ("# just a comment\n", "empty compose file", 0),
            ("---\n", "empty compose file", 0),
            ("a: 1\n---\nb: 2\n", "more than one yaml document", 2),
            ("a: 1\nb: 2\na: 3\n", "duplicate key `a` in this mapping (first at 1:1)", 3),
            ("a:\n  <<: {x: 1}\n  <<: {y: 1}\n", "duplicate key `<<`", 3),
            ("? [a]\n: 1\n", "mapping keys must be strings, found a list", 1),
            ("{x: 1}: 1\n", "mapping keys must be strings", 1),
            ("name: {{ .Values.x }}\n", "found a mapping (an unrendered `{{ … }}` template?)", 1),
            ("a: *nope\n", "invalid yaml", 1),
            ("a: &x [*x]\n", "not defined yet (or to itself)", 1),
            ("a: <<\nb: {<<: 5}\n", "`<<` merges mappings, found a number", 2),
            ("a: {<<: [{x: 1}, 2]}\n", "`<<` merges mappings", 1),
            ("a: [1, 2\n", "invalid yaml", 2),
            ("a: 'x\0y'\n", "not a text file: a NUL byte at 1:6", 1),
            ("a:\n\tb: 1\n", "invalid yaml", 2),
        ];
        for (text, want, line) in cases {
            let e = err(text);
            assert!(e.message.contains(want), "{text:?}: {e}");
            assert_eq!(e.line, *line, "{text:?}: {e}");
        }
    }

    #[test]
    fn decode_reports_the_first_bad_byte() {
        let path = Path::new("f.yaml");
        let bad_utf8 = b"a: 1\nb: \xff\n";
        let e = decode(bad_utf8, path).err().map(|e| (e.line, e.column, e.message));
        let Some((line, column, message)) = e else { panic!("accepted invalid utf-8") };
        assert_eq!((line, column), (2, 4));
        assert!(message.starts_with("not a text file: invalid utf-8 at 2:4"), "{message}");
        let utf16 = b"\xff\xfea\0:\0";
        assert!(decode(utf16, path).is_err());
        assert_eq!(decode(b"a: 1", path).ok(), Some("a: 1"));
    }

    #[test]
    fn rejects_oversized_files_at_1_1() {
        let big = "#".repeat(MAX_FILE_BYTES + 1);
        let e = err(&big);
        assert_eq!((e.line, e.column), (1, 1));
        assert!(e.message.contains(&format!("{} bytes", MAX_FILE_BYTES + 1)), "{}", e.message);
        assert!(e.message.contains(&MAX_FILE_BYTES.to_string()), "{}", e.message);
    }

    #[test]
    fn rejects_deep_nesting_quickly() {
        let start = Instant::now();
        let deep = "[".repeat(100_000);
        let e = err(&deep);
        assert!(e.message.starts_with("nesting deeper than 128 levels at 1:"), "{}", e.message);
        let deep_map = "{a: ".repeat(100_000);
        assert!(err(&deep_map).message.starts_with("nesting deeper than 128 levels"));
        let deep_block: String = (0..1000).map(|i| format!("{}- \n", " ".repeat(i))).collect();
        assert!(err(&deep_block).message.starts_with("nesting deeper than 128 levels"));
        let block: String = (0..150).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let e = err(&block);
        assert!(e.message.contains("nesting deeper than 128"), "{}", e.message);
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn allows_nesting_up_to_the_limit() {
        let text = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&text, file()).is_ok());
    }

    #[test]
    fn aliases_cannot_exceed_the_depth_limit() {
        let inner = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let text = format!("a: &x {inner}\nb: {}*x{}\n", "[".repeat(50), "]".repeat(50));
        assert!(err(&text).message.contains("nesting deeper than 128"));
    }

    #[test]
    fn rejects_alias_bombs() {
        let start = Instant::now();
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            let items = vec![prev; 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        let e = err(&text);
        assert!(e.message.contains("too many nodes after expanding aliases (alias bomb?)"), "{}", e.message);
        assert!(e.line > 1);
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn parses_document_streams() {
        let docs = |text: &str| match parse_documents(text, file()) {
            Ok(nodes) => nodes.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
            Err(e) => panic!("{text:?} failed: {e}"),
        };
        assert_eq!(docs("a: 1\n---\nb: 2\n"), ["{a: 1}", "{b: 2}"]);
        assert_eq!(docs("---\n---\n# only a comment\n---\na: 1\n"), ["{a: 1}"]);
        assert!(docs("").is_empty());
        assert_eq!(docs("{\"kind\": \"List\", \"items\": [{\"a\": 1}]}"), ["{kind: List, items: [{a: 1}]}"]);
        let second = parse_documents("a: 1\n---\nb: 2\n", file()).ok().and_then(|d| d.get(1).map(|n| n.span.line));
        assert_eq!(second, Some(3));
        // Anchors do not leak from one document into the next.
        let e = parse_documents("a: &x 1\n---\nb: *x\n", file()).err().map(|e| e.line);
        assert_eq!(e, Some(3));
        let e = parse_documents("a: 1\n---\nb: [1\n", file()).err().map(|e| e.line);
        assert_eq!(e, Some(4));
    }

    #[test]
    fn records_merge_tags() {
        let text = "a: !reset []\nb: !override [1]\nc: !custom x\n";
        let Ok((root, tags)) = parse_with_tags(text, file()) else { panic!("parse failed") };
        let span = |k: &str| root.get(k).map(|n| n.span.clone());
        let (Some(a), Some(b), Some(c)) = (span("a"), span("b"), span("c")) else { panic!("missing keys") };
        assert!(tags.is_reset(&a) && !tags.is_override(&a));
        assert!(tags.is_override(&b) && !tags.is_reset(&b));
        assert!(!tags.is_reset(&c) && !tags.is_override(&c));
        assert!(ok("a: !reset").get("a").is_some_and(Node::is_null));
    }
}
