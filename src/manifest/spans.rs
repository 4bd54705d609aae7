//! Source positions for manifest fields. serde_yaml's `Value` forgets where things were, so a second,
//! event-level pass over the same text records the line and column of every key and value by path.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, Parser};

/// One step in a path through the document: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
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
        p.0.push(Seg::Key(k.to_owned()));
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
    lines: Vec<String>,
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

impl SpanIndex {
    /// Index `text`. Text that does not parse yields an empty index: serde_yaml reports the syntax error.
    pub fn build(text: &str) -> Self {
        let mut index = SpanIndex {
            entries: HashMap::new(),
            lines: text.lines().map(str::to_owned).collect(),
        };
        let mut parser = Parser::new_from_str(text);
        let mut stack: Vec<Frame> = Vec::new();
        let mut root_seen = false;
        while let Ok((event, mark)) = parser.next_token() {
            let pos = Pos {
                line: mark.line(),
                column: mark.col() + 1,
            };
            let opens = match &event {
                Event::StreamEnd | Event::DocumentEnd => break,
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    continue;
                }
                Event::Scalar(..) | Event::Alias(_) => None,
                Event::MappingStart(..) => Some(true),
                Event::SequenceStart(..) => Some(false),
                _ => continue,
            };
            // Which path does this node sit at?
            let path = match stack.last_mut() {
                None => {
                    if root_seen {
                        break;
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
        index
    }

    /// Position of the key of `path` (for "unknown key" errors), falling back to the nearest ancestor.
    pub fn key_pos(&self, path: &FieldPath) -> Option<Pos> {
        self.lookup(path).map(|e| e.key)
    }

    /// Position of the value at `path` (for "wrong value" errors), falling back to the nearest ancestor.
    pub fn value_pos(&self, path: &FieldPath) -> Option<Pos> {
        self.lookup(path).map(|e| e.value)
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
            .map(String::as_str)
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
