//! Vector bin packing instances in the `.vbp` text format of the published benchmark sets.
//!
//! ```text
//! d                      number of dimensions
//! c_1 … c_d              the bin capacities
//! m                      number of item types
//! w_1 … w_d demand       m lines: an item type's sizes and how many items have it
//! ```

use crate::error::CoreError;

/// A validated instance: identical bins of `capacity`, items expanded from their types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Bin capacity per dimension.
    pub capacity: Vec<u64>,
    /// Item sizes (each of length `capacity.len()`).
    pub items: Vec<Vec<u64>>,
}

impl Instance {
    /// Parses and validates a `.vbp` text. `expected_items`, when given (the benchmark file
    /// names carry it), must equal the number of items.
    ///
    /// # Examples
    /// ```
    /// use compactor_core::packing::Instance;
    /// let inst = Instance::parse_vbp("2\n10 10\n2\n3 4 2\n5 5 1\n", Some(3)).unwrap();
    /// assert_eq!(inst.items, vec![vec![3, 4], vec![3, 4], vec![5, 5]]);
    /// assert!(Instance::parse_vbp("2\n10 10\n1\n11 1 1\n", None).is_err());
    /// ```
    ///
    /// # Errors
    /// [`CoreError::InvalidInstance`] naming the line and what is wrong: missing or
    /// non-numeric fields, a wrong count of values, a zero capacity or demand, an item larger
    /// than a bin, or an item count different from `expected_items`.
    ///
    /// # Complexity
    /// O(size of the text + n · d).
    pub fn parse_vbp(text: &str, expected_items: Option<usize>) -> Result<Self, CoreError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let bad = |line: usize, message: String| CoreError::InvalidInstance {
            line: line + 1,
            message,
        };
        let mut numbers =
            |what: &str, count: Option<usize>| -> Result<(usize, Vec<u64>), CoreError> {
                let (no, line) = lines.next().ok_or_else(|| CoreError::InvalidInstance {
                    line: 0,
                    message: format!("missing {what} at the end of the file"),
                })?;
                let values = line
                    .split_whitespace()
                    .map(|t| {
                        t.parse::<u64>().map_err(|_| {
                            bad(no, format!("{what}: {t:?} is not a non-negative integer"))
                        })
                    })
                    .collect::<Result<Vec<u64>, _>>()?;
                if let Some(c) = count
                    && values.len() != c
                {
                    return Err(bad(
                        no,
                        format!("{what}: expected {c} values, found {}", values.len()),
                    ));
                }
                Ok((no, values))
            };
        let (no, d) = numbers("dimension count", Some(1))?;
        let d = usize::try_from(d[0]).map_err(|_| bad(no, "dimension count too large".into()))?;
        if d == 0 || d > 1000 {
            return Err(bad(
                no,
                format!("dimension count {d} is not between 1 and 1000"),
            ));
        }
        let (no, capacity) = numbers("bin capacities", Some(d))?;
        if let Some(k) = capacity.iter().position(|c| *c == 0) {
            return Err(bad(no, format!("capacity of dimension {} is zero", k + 1)));
        }
        let (no, types) = numbers("item type count", Some(1))?;
        let types =
            usize::try_from(types[0]).map_err(|_| bad(no, "item type count too large".into()))?;
        let mut items = Vec::new();
        for t in 0..types {
            let (no, row) = numbers(&format!("item type {}", t + 1), Some(d + 1))?;
            let demand = row[d];
            if demand == 0 || demand > 1_000_000 {
                return Err(bad(
                    no,
                    format!("demand {demand} is not between 1 and 1000000"),
                ));
            }
            if let Some(k) = (0..d).find(|&k| row[k] > capacity[k]) {
                return Err(bad(
                    no,
                    format!(
                        "item size {} exceeds the bin capacity {} in dimension {}",
                        row[k],
                        capacity[k],
                        k + 1
                    ),
                ));
            }
            for _ in 0..demand {
                items.push(row[..d].to_vec());
            }
        }
        if let Some((no, _)) = lines.next() {
            return Err(bad(
                no,
                format!("unexpected content after {types} item types"),
            ));
        }
        if let Some(n) = expected_items
            && n != items.len()
        {
            return Err(CoreError::InvalidInstance {
                line: 0,
                message: format!(
                    "the file name announces {n} items, the file lists {}",
                    items.len()
                ),
            });
        }
        Ok(Self { capacity, items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line() {
        let e = |t: &str| Instance::parse_vbp(t, None).unwrap_err().to_string();
        assert_eq!(
            e(""),
            "invalid instance at line 0: missing dimension count at the end of the file"
        );
        assert_eq!(
            e("2\n10 x\n"),
            "invalid instance at line 2: bin capacities: \"x\" is not a non-negative integer"
        );
        assert_eq!(
            e("2\n10 10\n1\n3 4\n"),
            "invalid instance at line 4: item type 1: expected 3 values, found 2"
        );
        assert_eq!(
            e("2\n10 0\n"),
            "invalid instance at line 2: capacity of dimension 2 is zero"
        );
        assert_eq!(
            e("1\n10\n1\n11 1\n"),
            "invalid instance at line 4: item size 11 exceeds the bin capacity 10 in dimension 1"
        );
        assert_eq!(
            e("1\n10\n1\n1 0\n"),
            "invalid instance at line 4: demand 0 is not between 1 and 1000000"
        );
        assert_eq!(
            e("1\n10\n1\n1 1\n5 1\n"),
            "invalid instance at line 5: unexpected content after 1 item types"
        );
        assert_eq!(
            e("1\n10\n1\n-1 1\n"),
            "invalid instance at line 4: item type 1: \"-1\" is not a non-negative integer"
        );
        assert_eq!(
            Instance::parse_vbp("1\n10\n1\n1 3\n", Some(2))
                .unwrap_err()
                .to_string(),
            "invalid instance at line 0: the file name announces 2 items, the file lists 3"
        );
    }
}
