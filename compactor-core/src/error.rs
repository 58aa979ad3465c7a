//! The core's error type.

/// Everything that can go wrong in `compactor-core`. Each variant names the offending object
/// and, where it applies, the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// Two nodes share a name.
    #[error("duplicate node {node}")]
    DuplicateNode {
        /// The node name.
        node: String,
    },
    /// Two pods share a namespace/name.
    #[error("duplicate pod {pod}")]
    DuplicatePod {
        /// `namespace/name`.
        pod: String,
    },
    /// Two PodDisruptionBudgets share a namespace/name.
    #[error("duplicate poddisruptionbudget {pdb}")]
    DuplicatePdb {
        /// `namespace/name`.
        pdb: String,
    },
    /// An object without a name (or a namespaced object without a namespace).
    #[error("{object} has an empty name or namespace")]
    EmptyName {
        /// What was found.
        object: String,
    },
    /// A pod is bound to a node the snapshot does not contain.
    #[error("pod {pod} is bound to node {node}, which is not in the snapshot")]
    UnknownNode {
        /// `namespace/name` of the pod.
        pod: String,
        /// The missing node.
        node: String,
    },
    /// A node has no allocatable CPU, memory or pod slots.
    #[error("node {node} has zero allocatable {resource}")]
    ZeroAllocatable {
        /// The node.
        node: String,
        /// The resource.
        resource: String,
    },
    /// A sum does not fit in 64 bits.
    #[error("overflow in {object}: {field}")]
    Overflow {
        /// The object whose numbers overflow.
        object: String,
        /// Which sum.
        field: String,
    },
    /// An option passed to the planner or the packer is invalid.
    #[error("invalid option {field}: {message}")]
    InvalidOption {
        /// The option.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A packing item does not have as many dimensions as the bins.
    #[error("item {item} has {got} dimensions, the bins have {expected}")]
    DimensionMismatch {
        /// Item index.
        item: usize,
        /// Dimensions of the bins.
        expected: usize,
        /// Dimensions of the item.
        got: usize,
    },
    /// A packing item is larger than an empty bin.
    #[error("item {item} is larger than a bin in dimension {dimension}")]
    ItemTooLarge {
        /// Item index.
        item: usize,
        /// Dimension index.
        dimension: usize,
    },
    /// A field of an object holds a value Kubernetes would reject (and that would make the
    /// plan wrong), e.g. a topology spread constraint with `maxSkew: 0`.
    #[error("{object}: invalid {field}: {message}")]
    InvalidField {
        /// The object (`pod shop/web-1`).
        object: String,
        /// The field path (`topologySpreadConstraints[0].maxSkew`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A bin packing instance file is malformed.
    #[error("invalid instance at line {line}: {message}")]
    InvalidInstance {
        /// 1-based line (0 when the problem is not on one line).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A traffic edge names a pod the snapshot does not contain.
    #[error("traffic edge {edge}: {field} names pod {pod}, which is not in the snapshot")]
    UnknownTrafficPod {
        /// Index of the edge in `edges[]`.
        edge: usize,
        /// `from` or `to`.
        field: String,
        /// The `namespace/name` given.
        pod: String,
    },
    /// A traffic edge names a workload without a pod in the snapshot.
    #[error(
        "traffic edge {edge}: {field} names workload {workload}, which has no pod in the snapshot"
    )]
    UnknownTrafficWorkload {
        /// Index of the edge in `edges[]`.
        edge: usize,
        /// `from` or `to`.
        field: String,
        /// The `namespace/Kind/name` given.
        workload: String,
    },
    /// A traffic edge's rate is negative, NaN, infinite or over
    /// [`crate::traffic::MAX_RATE`].
    #[error(
        "traffic edge {edge}: bytesPerSecond is {value}, expected a number from 0 to 1e15 (a petabyte per second)"
    )]
    InvalidTrafficRate {
        /// Index of the edge.
        edge: usize,
        /// The rate as given (formatted: floats are not `Eq`).
        value: String,
    },
    /// A traffic edge is malformed in another way: an endpoint reference that does not parse,
    /// or an item index out of range in [`crate::traffic::pack_network`].
    #[error("traffic edge {edge}: {field} {message}")]
    InvalidTrafficEdge {
        /// Index of the edge.
        edge: usize,
        /// `from` or `to`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}
