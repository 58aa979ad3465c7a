//! Resource lists (named amounts in canonical integer units) and the dense dimension layout.
//!
//! Canonical units: `cpu` in millicores, `memory` and `ephemeral-storage` in bytes, `pods` in
//! slots, every other (extended) resource such as `nvidia.com/gpu` as a plain count.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::quantity::{self, Human, HumanKind, Unit};

/// Resource name of CPU (millicores).
pub const CPU: &str = "cpu";
/// Resource name of memory (bytes).
pub const MEMORY: &str = "memory";
/// Resource name of local ephemeral storage (bytes).
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
/// Resource name of pod slots (count).
pub const PODS: &str = "pods";

/// Whether a pod may request `resource` at pod level (`spec.resources.requests`): the API
/// server accepts only `cpu`, `memory` and `hugepages-*` there (Kubernetes 1.34).
///
/// # Examples
/// ```
/// use compactor_core::resources::is_pod_level_resource;
/// assert!(is_pod_level_resource("memory"));
/// assert!(is_pod_level_resource("hugepages-2Mi"));
/// assert!(!is_pod_level_resource("ephemeral-storage"));
/// ```
///
/// # Complexity
/// O(length of `resource`).
pub fn is_pod_level_resource(resource: &str) -> bool {
    resource == CPU || resource == MEMORY || resource.starts_with("hugepages-")
}

/// The canonical unit of a resource: millicores for `cpu`, the base unit otherwise.
///
/// # Examples
/// ```
/// use compactor_core::resources::unit_of;
/// use compactor_core::quantity::Unit;
/// assert_eq!(unit_of("cpu"), Unit::Milli);
/// assert_eq!(unit_of("nvidia.com/gpu"), Unit::Base);
/// ```
pub fn unit_of(resource: &str) -> Unit {
    if resource == CPU {
        Unit::Milli
    } else {
        Unit::Base
    }
}

/// How a resource is shown to people.
pub fn human(resource: &str, amount: u64) -> Human {
    let kind = match resource {
        CPU => HumanKind::Millicores,
        MEMORY | EPHEMERAL_STORAGE => HumanKind::Bytes,
        r if r.starts_with("hugepages-") => HumanKind::Bytes,
        _ => HumanKind::Count,
    };
    Human { amount, kind }
}

/// Named resource amounts in canonical units, ordered by name.
///
/// In JSON it is an object of Kubernetes quantities (`{"cpu": "500m", "memory": "1Gi"}`);
/// a JSON number is read as a quantity too (`{"cpu": 2}` is two cores), as Kubernetes does.
///
/// # Examples
/// ```
/// use compactor_core::resources::ResourceList;
/// let r: ResourceList = serde_json::from_str(r#"{"cpu": "1.5", "memory": "1Gi"}"#).unwrap();
/// assert_eq!(r.get("cpu"), 1500);
/// assert_eq!(r.get("memory"), 1 << 30);
/// assert_eq!(r.get("nvidia.com/gpu"), 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ResourceList(BTreeMap<String, u64>);

impl ResourceList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces one amount (builder style).
    #[must_use]
    pub fn with(mut self, resource: &str, amount: u64) -> Self {
        self.0.insert(resource.to_owned(), amount);
        self
    }

    /// Sets one amount.
    pub fn set(&mut self, resource: &str, amount: u64) {
        self.0.insert(resource.to_owned(), amount);
    }

    /// The amount of `resource`, zero when absent.
    pub fn get(&self, resource: &str) -> u64 {
        self.0.get(resource).copied().unwrap_or(0)
    }

    /// Whether `resource` is listed (even with amount zero).
    pub fn contains(&self, resource: &str) -> bool {
        self.0.contains_key(resource)
    }

    /// Iterates over `(name, amount)` in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Whether no resource is listed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, u64)> for ResourceList {
    fn from_iter<I: IntoIterator<Item = (String, u64)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Serialize for ResourceList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, amount) in &self.0 {
            map.serialize_entry(name, &quantity::format(*amount, unit_of(name)))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ResourceList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ListVisitor)
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = ResourceList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of resource quantities such as {\"cpu\": \"500m\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(name) = access.next_key::<String>()? {
            let raw: RawQuantity = access.next_value()?;
            let text = match raw {
                RawQuantity::Text(s) => s,
                RawQuantity::Unsigned(n) => n.to_string(),
                RawQuantity::Signed(n) => n.to_string(),
                RawQuantity::Float(f) => f.to_string(),
            };
            let amount = quantity::parse(&text, unit_of(&name))
                .map_err(|e| de::Error::custom(format!("resource {name}: {e}")))?;
            if out.insert(name.clone(), amount).is_some() {
                return Err(de::Error::custom(format!("resource {name} listed twice")));
            }
        }
        Ok(ResourceList(out))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawQuantity {
    Text(String),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

/// The resource dimensions of one snapshot, in a fixed order: `cpu`, `memory`,
/// `ephemeral-storage`, `pods`, then every extended resource by name.
///
/// Hot paths index amounts by dimension (`Vec<u64>` of length [`Dimensions::len`]) instead of
/// looking names up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimensions {
    names: Vec<String>,
}

impl Dimensions {
    /// Index of `cpu`.
    pub const CPU: usize = 0;
    /// Index of `memory`.
    pub const MEMORY: usize = 1;
    /// Index of `ephemeral-storage`.
    pub const EPHEMERAL_STORAGE: usize = 2;
    /// Index of `pods`.
    pub const PODS: usize = 3;

    /// The four standard dimensions plus every other resource named in `lists`.
    ///
    /// # Complexity
    /// O(total entries · log) time.
    pub fn from_lists<'a>(lists: impl IntoIterator<Item = &'a ResourceList>) -> Self {
        let mut extended = std::collections::BTreeSet::new();
        for list in lists {
            for (name, _) in list.iter() {
                if ![CPU, MEMORY, EPHEMERAL_STORAGE, PODS].contains(&name)
                    && !extended.contains(name)
                {
                    extended.insert(name.to_owned());
                }
            }
        }
        let mut names: Vec<String> = [CPU, MEMORY, EPHEMERAL_STORAGE, PODS]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        names.extend(extended);
        Self { names }
    }

    /// Number of dimensions.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Always false: the four standard dimensions are always present.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Name of dimension `d`.
    pub fn name(&self, d: usize) -> &str {
        &self.names[d]
    }

    /// Name of dimension `d` as a reason shows it: the name, except for the count of a CSI
    /// driver's attached volumes, `CSI volume attachments (<driver>)`.
    ///
    /// ```
    /// use compactor_core::resources::{Dimensions, ResourceList};
    /// let d = Dimensions::from_lists([&ResourceList::new().with("attachable-volumes-csi-ebs.csi.aws.com", 1)]);
    /// assert_eq!(d.label(d.len() - 1), "CSI volume attachments (ebs.csi.aws.com)");
    /// assert_eq!(d.label(Dimensions::CPU), "cpu");
    /// ```
    pub fn label(&self, d: usize) -> String {
        match self.names[d].strip_prefix(crate::snapshot::ATTACH_PREFIX) {
            Some(driver) => format!("CSI volume attachments ({driver})"),
            None => self.names[d].clone(),
        }
    }

    /// `amount` of dimension `d` as a reason shows it: `1.50 CPU`, `250m CPU`, `4.0 GiB
    /// memory`, `2 nvidia.com/gpu`, `1 CSI volume attachments (<driver>)`.
    ///
    /// ```
    /// use compactor_core::resources::{Dimensions, ResourceList};
    /// let d = Dimensions::from_lists([&ResourceList::new().with("nvidia.com/gpu", 1)]);
    /// assert_eq!(d.amount(Dimensions::CPU, 1500), "1.50 CPU");
    /// assert_eq!(d.amount(Dimensions::CPU, 250), "250m CPU");
    /// assert_eq!(d.amount(Dimensions::MEMORY, 4 << 30), "4.0 GiB memory");
    /// assert_eq!(d.amount(d.len() - 1, 2), "2 nvidia.com/gpu");
    /// ```
    pub fn amount(&self, d: usize, amount: u64) -> String {
        let shown = human(&self.names[d], amount).to_string();
        if d == Self::CPU {
            if shown.ends_with("CPU") {
                shown
            } else {
                format!("{shown} CPU")
            }
        } else {
            format!("{shown} {}", self.label(d))
        }
    }

    /// All names in dimension order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The dimension of resource `name`, if it is one.
    ///
    /// # Complexity
    /// O(log d).
    pub(crate) fn index(&self, name: &str) -> Option<usize> {
        match name {
            CPU => Some(Self::CPU),
            MEMORY => Some(Self::MEMORY),
            EPHEMERAL_STORAGE => Some(Self::EPHEMERAL_STORAGE),
            PODS => Some(Self::PODS),
            // Extended resources follow in name order.
            _ => self.names[Self::PODS + 1..]
                .binary_search_by(|n| n.as_str().cmp(name))
                .ok()
                .map(|i| i + Self::PODS + 1),
        }
    }

    /// Whether the safety threshold's utilisation cap applies to dimension `d` (CPU, memory and
    /// ephemeral storage); pod slots and extended resources are checked against allocatable only.
    pub fn is_capped(d: usize) -> bool {
        d <= Self::EPHEMERAL_STORAGE
    }

    /// The dense vector of `list`.
    pub fn dense(&self, list: &ResourceList) -> Vec<u64> {
        self.names.iter().map(|n| list.get(n)).collect()
    }

    /// The named list of a dense vector, leaving out zero amounts.
    pub fn sparse(&self, dense: &[u64]) -> ResourceList {
        self.names
            .iter()
            .zip(dense)
            .filter(|(_, v)| **v > 0)
            .map(|(n, v)| (n.clone(), *v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_uses_quantities() {
        let r: ResourceList = serde_json::from_str(
            r#"{"cpu": 2, "memory": "1.5Gi", "nvidia.com/gpu": "1", "pods": 110}"#,
        )
        .unwrap();
        assert_eq!(r.get(CPU), 2000);
        assert_eq!(r.get(MEMORY), 1_610_612_736);
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(
            s,
            r#"{"cpu":"2","memory":"1610612736","nvidia.com/gpu":"1","pods":"110"}"#
        );
        let back: ResourceList = serde_json::from_str(&s).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn bad_quantity_names_the_resource() {
        let err = serde_json::from_str::<ResourceList>(r#"{"memory": "12XB"}"#).unwrap_err();
        assert!(
            err.to_string().contains("resource memory: unknown suffix"),
            "{err}"
        );
        let err = serde_json::from_str::<ResourceList>(r#"{"cpu": -1}"#).unwrap_err();
        assert!(err.to_string().contains("resource cpu: negative"), "{err}");
    }

    #[test]
    fn dimensions_order_is_fixed() {
        let a = ResourceList::new().with("nvidia.com/gpu", 1).with("cpu", 1);
        let b = ResourceList::new().with("amd.com/gpu", 2);
        let dims = Dimensions::from_lists([&a, &b]);
        assert_eq!(
            dims.names(),
            [
                "cpu",
                "memory",
                "ephemeral-storage",
                "pods",
                "amd.com/gpu",
                "nvidia.com/gpu"
            ]
        );
        assert_eq!(dims.dense(&a), vec![1, 0, 0, 0, 0, 1]);
        for (i, name) in dims.names().iter().enumerate() {
            assert_eq!(dims.index(name), Some(i));
        }
        assert_eq!(dims.index("example.com/foo"), None);
        assert_eq!(dims.sparse(&[1, 0, 0, 0, 0, 1]), a);
        assert!(Dimensions::is_capped(Dimensions::EPHEMERAL_STORAGE));
        assert!(!Dimensions::is_capped(Dimensions::PODS));
    }
}
