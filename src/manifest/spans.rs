//! Source positions for manifest fields. serde_yaml's `Value` forgets where things were, so a second,
//! event-level pass over the same text records the line and column of every key and value by path.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, Parser};

/// One step in a path through the document: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// Shared: every path below a key holds it, and a large manifest has hundreds of thousands.
    Key(std::sync::Arc<str>),
    Index(usize),
}

/// A path such as `services.web.ports[0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }
    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.into()));
        p
    }
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
    pub fn parent(&self) -> Option<Self> {
        if self.0.is_empty() {
            None
        } else {
            Some(FieldPath(self.0[..self.0.len() - 1].to_vec()))
        }
    }
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: Pos,
    value: Pos,
}

/// Positions of every key and value in one YAML document.
#[derive(Debug, Default)]
pub struct SpanIndex {
    entries: HashMap<FieldPath, Entry>,
    /// The whole text, shared by the documents in it, and where each of its lines is.
    text: std::sync::Arc<str>,
    lines: std::sync::Arc<[std::ops::Range<usize>]>,
}

enum Frame {
    Map {
        path: FieldPath,
        key: Option<(String, Pos)>,
    },
    Seq {
        path: FieldPath,
        next: usize,
    },
}

/// Bounds on what one manifest may expand to. YAML aliases let a small file stand for an enormous
/// document (each `*ref` repeats its anchor's whole subtree), and deep nesting makes every path long.
/// Real Compose files stay far below these.
pub const MAX_DEPTH: usize = 128;
pub const MAX_EXPANDED_NODES: u64 = 1_000_000;
pub const MAX_EXPANDED_BYTES: u64 = 64 * 1024 * 1024;

/// The raw-text pre-check's bound on `[`/`{` nesting: loose (brackets in plain scalars count too),
/// well above `MAX_DEPTH`, and low enough that the parser's quadratic cost below it is negligible.
const MAX_FLOW_SCAN_DEPTH: usize = 1000;

/// Where the text's `[`/`{` nesting first goes beyond `limit`, skipping quoted strings and comments.
fn flow_nesting_beyond(text: &str, limit: usize) -> Option<Pos> {
    let (mut depth, mut line, mut column) = (0usize, 1usize, 0usize);
    let mut quote: Option<char> = None;
    let (mut escaped, mut comment, mut prev) = (false, false, '\n');
    for c in text.chars() {
        column += 1;
        if c == '\n' {
            line += 1;
            column = 0;
            comment = false;
        }
        match quote {
            _ if comment => {}
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '#' if prev.is_whitespace() => comment = true,
                '"' | '\'' => quote = Some(c),
                '[' | '{' => {
                    depth += 1;
                    if depth > limit {
                        return Some(Pos { line, column });
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
        prev = c;
    }
    None
}

/// Why a document was refused before decoding, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooBig {
    pub at: Pos,
    pub why: String,
}

/// Counts what the document would be with every alias expanded, event by event: an anchored node
/// records its expanded size when it closes, and an alias adds that size again. Only what aliases
/// add is bounded: what the file plainly holds is bounded by the size of the file read.
#[derive(Default)]
struct Expansion {
    nodes: u64,
    bytes: u64,
    /// What aliases added to the document beyond its own text.
    aliased_nodes: u64,
    aliased_bytes: u64,
    /// Anchor id → (nodes, bytes) of its expanded subtree.
    anchors: HashMap<usize, (u64, u64)>,
    /// Open collections that carry an anchor: (anchor id, nodes and bytes when they opened).
    open: Vec<Option<(usize, u64, u64)>>,
}

impl Expansion {
    /// Nodes and bytes the file's own text holds.
    fn add_plain(&mut self, nodes: u64, bytes: u64) {
        self.nodes = self.nodes.saturating_add(nodes);
        self.bytes = self.bytes.saturating_add(bytes);
    }

    /// Nodes and bytes an alias repeats; refused once the repeats pass the bounds.
    fn add_aliased(&mut self, nodes: u64, bytes: u64) -> Option<String> {
        self.add_plain(nodes, bytes);
        self.aliased_nodes = self.aliased_nodes.saturating_add(nodes);
        self.aliased_bytes = self.aliased_bytes.saturating_add(bytes);
        if self.aliased_nodes > MAX_EXPANDED_NODES {
            return Some(format!(
                "its aliases expand to more than {MAX_EXPANDED_NODES} values"
            ));
        }
        if self.aliased_bytes > MAX_EXPANDED_BYTES {
            return Some(format!(
                "its aliases expand to more than {} MiB of text",
                MAX_EXPANDED_BYTES >> 20
            ));
        }
        None
    }
}

impl SpanIndex {
    #[cfg(test)]
    /// Index the first document of `text`.
    pub fn build(text: &str) -> Self {
        Self::build_all(text)
            .0
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// Index every document of `text`, with positions in the whole text. Text that does not parse
    /// yields what was indexed so far: serde_yaml reports the syntax error. The second value says
    /// why the text is refused before decoding (too deep, or too large once aliases are expanded).
    pub fn build_all(text: &str) -> (Vec<Self>, Option<TooBig>) {
        // YAML scanners keep one entry per open `[`/`{` and revisit them all at every token, so
        // very deep flow nesting takes quadratic time in the parser itself: refuse it first.
        if let Some(at) = flow_nesting_beyond(text, MAX_FLOW_SCAN_DEPTH) {
            let why = format!("the document nests more than {MAX_DEPTH} levels deep");
            return (Vec::new(), Some(TooBig { at, why }));
        }
        let whole: std::sync::Arc<str> = text.into();
        let lines: std::sync::Arc<[std::ops::Range<usize>]> = text
            .lines()
            .map(|l| {
                let start = l.as_ptr() as usize - text.as_ptr() as usize;
                start..start + l.len()
            })
            .collect();
        let mut docs = Vec::new();
        let mut index = SpanIndex::default();
        let mut parser = Parser::new_from_str(text);
        let mut stack: Vec<Frame> = Vec::new();
        let mut root_seen = false;
        let mut expansion = Expansion::default();
        while let Ok((event, mark)) = parser.next_token() {
            let pos = Pos {
                line: mark.line(),
                column: mark.col() + 1,
            };
            let refuse = |why: String| TooBig { at: pos, why };
            let opens = match &event {
                Event::StreamEnd => break,
                Event::DocumentStart => continue,
                Event::DocumentEnd => {
                    index.text = whole.clone();
                    index.lines = lines.clone();
                    docs.push(std::mem::take(&mut index));
                    stack.clear();
                    root_seen = false;
                    continue;
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    if let Some(Some((id, nodes, bytes))) = expansion.open.pop() {
                        let size = (expansion.nodes - nodes, expansion.bytes - bytes);
                        expansion.anchors.insert(id, size);
                    }
                    continue;
                }
                Event::Scalar(value, _, anchor, _) => {
                    let bytes = value.len() as u64;
                    if *anchor > 0 {
                        expansion.anchors.insert(*anchor, (1, bytes));
                    }
                    expansion.add_plain(1, bytes);
                    None
                }
                Event::Alias(anchor) => {
                    let (nodes, bytes) = expansion.anchors.get(anchor).copied().unwrap_or((1, 0));
                    if let Some(why) = expansion.add_aliased(nodes, bytes) {
                        return (docs, Some(refuse(why)));
                    }
                    None
                }
                Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                    if stack.len() >= MAX_DEPTH {
                        return (
                            docs,
                            Some(refuse(format!(
                                "the document nests more than {MAX_DEPTH} levels deep"
                            ))),
                        );
                    }
                    let open = (*anchor > 0).then_some((*anchor, expansion.nodes, expansion.bytes));
                    expansion.open.push(open);
                    expansion.add_plain(1, 0);
                    Some(matches!(event, Event::MappingStart(..)))
                }
                _ => continue,
            };
            // Which path does this node sit at?
            let path = match stack.last_mut() {
                None => {
                    if root_seen {
                        continue;
                    }
                    root_seen = true;
                    FieldPath::root()
                }
                Some(Frame::Map { path, key }) => match key.take() {
                    None => {
                        // This node is a key.
                        let name = match &event {
                            Event::Scalar(s, ..) => s.clone(),
                            _ => "<complex key>".to_owned(),
                        };
                        *key = Some((name, pos));
                        if let Some(is_map) = opens {
                            // A complex key: index nothing beneath it, but keep the nesting balanced.
                            let dummy = FieldPath::root().key("<complex key>");
                            stack.push(if is_map {
                                Frame::Map {
                                    path: dummy,
                                    key: None,
                                }
                            } else {
                                Frame::Seq {
                                    path: dummy,
                                    next: 0,
                                }
                            });
                        }
                        continue;
                    }
                    Some((name, key_pos)) => {
                        let p = path.key(&name);
                        index.entries.insert(
                            p.clone(),
                            Entry {
                                key: key_pos,
                                value: pos,
                            },
                        );
                        p
                    }
                },
                Some(Frame::Seq { path, next }) => {
                    let p = path.index(*next);
                    *next += 1;
                    index.entries.insert(
                        p.clone(),
                        Entry {
                            key: pos,
                            value: pos,
                        },
                    );
                    p
                }
            };
            match opens {
                Some(true) => stack.push(Frame::Map { path, key: None }),
                Some(false) => stack.push(Frame::Seq { path, next: 0 }),
                None => {}
            }
        }
        if !index.entries.is_empty() || docs.is_empty() {
            index.text = whole;
            index.lines = lines;
            docs.push(index);
        }
        (docs, None)
    }

    /// Position of the key of `path` (for "unknown key" errors), falling back to the nearest ancestor.
    pub fn key_pos(&self, path: &FieldPath) -> Option<Pos> {
        self.lookup(path).map(|e| e.key)
    }

    /// Position of the value at `path` (for "wrong value" errors), falling back to the nearest ancestor.
    pub fn value_pos(&self, path: &FieldPath) -> Option<Pos> {
        self.lookup(path).map(|e| e.value)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn contains(&self, path: &FieldPath) -> bool {
        self.entries.contains_key(path)
    }

    fn lookup(&self, path: &FieldPath) -> Option<Entry> {
        let mut p = Some(path.clone());
        while let Some(cur) = p {
            if let Some(e) = self.entries.get(&cur) {
                return Some(*e);
            }
            p = cur.parent();
        }
        None
    }

    pub fn line_text(&self, line: usize) -> Option<&str> {
        line.checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .and_then(|r| self.text.get(r.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keys_values_and_sequence_items() {
        let idx = SpanIndex::build(
            "services:\n  web:\n    image: nginx\n    ports:\n      - \"80:80\"\n",
        );
        let web = FieldPath::root().key("services").key("web");
        assert_eq!(idx.key_pos(&web), Some(Pos { line: 2, column: 3 }));
        assert_eq!(
            idx.value_pos(&web.key("image")),
            Some(Pos {
                line: 3,
                column: 12
            })
        );
        assert_eq!(
            idx.value_pos(&web.key("ports").index(0)),
            Some(Pos { line: 5, column: 9 })
        );
        // Unknown paths fall back to the nearest known ancestor.
        assert_eq!(
            idx.key_pos(&web.key("nope")),
            Some(Pos { line: 2, column: 3 })
        );
    }

    #[test]
    fn flow_style_and_garbage_do_not_panic() {
        let idx = SpanIndex::build("a: {b: [1, {c: 2}]}\n");
        let c = FieldPath::root().key("a").key("b").index(1).key("c");
        assert_eq!(idx.value_pos(&c).map(|p| p.line), Some(1));
        let _ = SpanIndex::build("\u{0}\u{1}: [: {");
        let _ = SpanIndex::build("? [a, b]\n: c\n");
    }
}
