//! The crate's error type.

use compactor_core::quantity::QuantityError;

/// Everything that can go wrong while importing cluster objects.
///
/// Every message is lowercase and names the offending object and the field path inside it,
/// for example
/// `pod shop/web-1: spec.containers[1].resources.requests.memory: invalid quantity "12XB": …`.
///
/// The [`Display`](std::fmt::Display) text is the complete message: variants that carry an
/// inner error (a [`QuantityError`], a serde message) include its text and do not report it
/// again through [`std::error::Error::source`], so that error chains printed with `{:#}` do
/// not repeat it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KubeError {
    /// The input text is not JSON at all.
    #[error("input is not valid json: {message}")]
    Json {
        /// serde_json's message, with line and column.
        message: String,
    },
    /// The input is JSON but neither of the two accepted formats.
    #[error(
        "unrecognised input ({found}): expected either a kubectl list (the output of \
         `kubectl get nodes,pods,pdb -A -o json`: an object with kind \"List\" and \"items\") \
         or a kube-compactor snapshot (an object with \"nodes\" and optionally \"pods\" and \"pdbs\")"
    )]
    Format {
        /// What was found instead, in plain words.
        found: String,
    },
    /// The kube-compactor snapshot format does not deserialize.
    #[error("snapshot: {path}: {message}")]
    Snapshot {
        /// Path of the offending value (`pods[3].containers[0].requests`; `.` for the root).
        path: String,
        /// serde's message, with line and column.
        message: String,
    },
    /// An item of a kubectl list is not a valid object of its kind.
    #[error("items[{index}] ({object}): {message}")]
    Item {
        /// Index of the item in `items`.
        index: usize,
        /// `Kind namespace/name` (or `Kind name` for cluster-scoped objects) as far as known.
        object: String,
        /// What is wrong, with the field path inside the item when serde names one.
        message: String,
    },
    /// A resource quantity does not parse.
    #[error("{object}: {field}: invalid quantity {value:?}: {error}")]
    Quantity {
        /// The object: `node n1`, `pod shop/web-1`.
        object: String,
        /// Field path: `spec.containers[1].resources.requests.memory`.
        field: String,
        /// The quantity as written.
        value: String,
        /// Why it was rejected.
        error: QuantityError,
    },
    /// A field holds a value the model cannot represent (unknown phase, unknown selector
    /// operator, missing name, …).
    #[error("{object}: {field}: {message}")]
    Field {
        /// The object: `pod shop/web-1`, `poddisruptionbudget shop/web-pdb`.
        object: String,
        /// Field path: `status.phase`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// No usable client configuration: the kubeconfig is unreadable, names no such context,
    /// or none is found (outside a cluster).
    #[error("kubeconfig: {message}")]
    Config {
        /// What is wrong, with the file when one was read.
        message: String,
    },
    /// compactor-core refused the cluster or the options (its message, with what was being
    /// done).
    #[error("{context}: {message}")]
    Core {
        /// What was being done: `analyse config default`.
        context: String,
        /// compactor-core's message.
        message: String,
    },
    /// An API request failed: refused by the API server (with its status code and message)
    /// or not answered at all.
    #[error("{operation}: {message}")]
    Api {
        /// What was attempted: `list pods`, `evict pod shop/web-1`, `cordon node n1`.
        operation: String,
        /// The HTTP status code the API server answered, if it answered.
        code: Option<u16>,
        /// The API server's message (`pods "web-1" is forbidden: …`) or the transport error.
        message: String,
    },
}

#[cfg(feature = "client")]
impl KubeError {
    /// An [`KubeError::Api`] for `operation` from a client error.
    pub fn api(operation: impl Into<String>, error: &kube::Error) -> Self {
        let (code, message) = match error {
            kube::Error::Api(status) => (
                Some(status.code),
                if status.message.is_empty() {
                    format!("{} {}", status.code, status.reason)
                } else {
                    format!("{} ({})", status.message, status.code)
                },
            ),
            other => (None, other.to_string()),
        };
        Self::Api {
            operation: operation.into(),
            code,
            message,
        }
    }
}
