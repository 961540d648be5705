//! A structural scan of JSON text that finds where values start and end, so
//! fixture problems can name a file, line and column, and large files can be
//! parsed one record at a time. Full validation of each value is left to
//! serde_json; this only follows strings and brackets.

/// A scan failure at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub offset: usize,
    pub message: String,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, ScanError> {
    Err(ScanError {
        offset,
        message: message.into(),
    })
}

/// Skips white space (and a UTF-8 byte order mark at the very start).
pub fn skip_ws(b: &[u8], mut i: usize) -> usize {
    if i == 0 && b.starts_with(&[0xEF, 0xBB, 0xBF]) {
        i = 3;
    }
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The offset just past the string starting at `i` (which is `"`).
fn string_end(b: &[u8], i: usize) -> Result<usize, ScanError> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'"' => return Ok(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
    err(i, "unterminated string")
}

/// The offset just past the value starting at `i`.
pub fn value_end(b: &[u8], i: usize) -> Result<usize, ScanError> {
    match b.get(i) {
        None => err(i, "expected a value, found the end of the file"),
        Some(b'"') => string_end(b, i),
        Some(b'{' | b'[') => {
            let mut stack = vec![b[i]];
            let mut j = i + 1;
            while let Some(&c) = b.get(j) {
                match c {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => stack.push(c),
                    b'}' | b']' => {
                        let open = stack.pop().unwrap_or(b' ');
                        if (open == b'{') != (c == b'}') {
                            return err(j, format!("unexpected '{}'", c as char));
                        }
                        if stack.is_empty() {
                            return Ok(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            err(i, format!("'{}' is never closed", b[i] as char))
        }
        Some(_) => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            if j == i {
                return err(i, format!("expected a value, found '{}'", b[i] as char));
            }
            Ok(j)
        }
    }
}

/// The `(start, end)` offsets of the elements of the array starting at `i`.
pub fn array_items(b: &[u8], i: usize) -> Result<Vec<(usize, usize)>, ScanError> {
    if b.get(i) != Some(&b'[') {
        return err(i, "expected an array");
    }
    let mut items = Vec::new();
    let mut j = skip_ws(b, i + 1);
    if b.get(j) == Some(&b']') {
        return Ok(items);
    }
    loop {
        let end = value_end(b, j)?;
        items.push((j, end));
        j = skip_ws(b, end);
        match b.get(j) {
            Some(b',') => j = skip_ws(b, j + 1),
            Some(b']') => return Ok(items),
            Some(&c) => {
                return err(
                    j,
                    format!(
                        "expected ',' or ']' after an array element, found '{}'",
                        c as char
                    ),
                );
            }
            None => return err(i, "the array is never closed"),
        }
    }
}

/// One member of an object: its key (unescaped), where the key starts, and
/// where its value starts and ends.
#[derive(Debug, Clone)]
pub struct Member {
    pub key: String,
    pub key_offset: usize,
    pub value: (usize, usize),
}

/// The members of the object starting at `i`.
pub fn object_members(b: &[u8], i: usize) -> Result<Vec<Member>, ScanError> {
    if b.get(i) != Some(&b'{') {
        return err(i, "expected an object");
    }
    let mut members = Vec::new();
    let mut j = skip_ws(b, i + 1);
    if b.get(j) == Some(&b'}') {
        return Ok(members);
    }
    loop {
        if b.get(j) != Some(&b'"') {
            return err(j, "expected an attribute name in double quotes");
        }
        let key_end = string_end(b, j)?;
        let key: String =
            serde_json::from_slice(&b[j..key_end]).or_else(|e| err(j, e.to_string()))?;
        let colon = skip_ws(b, key_end);
        if b.get(colon) != Some(&b':') {
            return err(colon, "expected ':' after an attribute name");
        }
        let start = skip_ws(b, colon + 1);
        let end = value_end(b, start)?;
        members.push(Member {
            key,
            key_offset: j,
            value: (start, end),
        });
        j = skip_ws(b, end);
        match b.get(j) {
            Some(b',') => j = skip_ws(b, j + 1),
            Some(b'}') => return Ok(members),
            Some(&c) => {
                return err(
                    j,
                    format!("expected ',' or '}}' after a value, found '{}'", c as char),
                );
            }
            None => return err(i, "the object is never closed"),
        }
    }
}

/// Maps byte offsets of one text to 1-based lines and columns (columns
/// counted in characters, as editors show them).
pub struct LineIndex<'a> {
    text: &'a [u8],
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a [u8]) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(
            text.iter()
                .enumerate()
                .filter(|(_, c)| **c == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { text, starts }
    }

    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let col = String::from_utf8_lossy(&self.text[start..offset])
            .chars()
            .count()
            + 1;
        (line + 1, col)
    }

    /// The byte offset of a serde_json error position (1-based line and
    /// column) inside the slice of this text that starts at `base`.
    pub fn offset_of(&self, base: usize, line: usize, column: usize) -> usize {
        let (base_line, _) = self.line_col(base);
        let line_start = if line <= 1 {
            base
        } else {
            self.starts
                .get(base_line - 1 + line - 1)
                .copied()
                .unwrap_or(self.text.len())
        };
        (line_start + column.saturating_sub(1)).min(self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_items_and_members() {
        let t = br#" [ {"a": "x]\"}", "b": [1, {"c": 2}]}, 3 , "s" ] "#;
        let start = skip_ws(t, 0);
        let items = array_items(t, start).unwrap();
        assert_eq!(items.len(), 3);
        let (s, e) = items[0];
        let m = object_members(t, s).unwrap();
        assert_eq!(&t[e - 2..e], b"]}");
        assert_eq!(m[0].key, "a");
        assert_eq!(&t[m[1].value.0..m[1].value.1], b"[1, {\"c\": 2}]");
    }

    #[test]
    fn reports_unclosed_and_mismatched() {
        assert!(array_items(b"[1, 2", 0).is_err());
        assert!(value_end(b"{\"a\": [1}", 0).is_err());
        assert!(object_members(b"{\"a\" 1}", 0).is_err());
    }

    #[test]
    fn lines_and_columns() {
        let t = "[\n  {\"é\": 1},\n  x\n]".as_bytes();
        let idx = LineIndex::new(t);
        let x = t.iter().position(|&c| c == b'x').unwrap();
        assert_eq!(idx.line_col(x), (3, 3));
        let one = t.iter().position(|&c| c == b'1').unwrap();
        assert_eq!(idx.line_col(one), (2, 9));
    }
}
