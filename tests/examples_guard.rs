//! The context guard of the live examples (`examples/observe.rs`, `plan.rs`, `apply.rs`):
//! kind contexts pass, any other context only when `--allow-context` names it exactly, and
//! the refusal says how to allow it.

#[path = "../examples/live_common/guard.rs"]
mod guard;

use guard::{KIND_PREFIX, check_context};

#[test]
fn kind_contexts_pass_without_allow_context() {
    assert_eq!(KIND_PREFIX, "kind-");
    for context in ["kind-kind", "kind-dev", "kind-kube-compactor-e2e"] {
        assert_eq!(check_context(context, None), Ok(()), "{context}");
        // Naming another context does not take a kind context's pass away.
        assert_eq!(check_context(context, Some("prod")), Ok(()), "{context}");
    }
}

#[test]
fn other_contexts_are_refused_with_how_to_allow_them() {
    for context in [
        "kwok-kube-compactor-e2e",
        "prod",
        "gke_project_europe-west1_main",
        "arn:aws:eks:eu-west-1:123456789012:cluster/main",
        // Not kind contexts although they look close.
        "kind",
        "kind-",
        "Kind-dev",
        "my-kind-dev",
        " kind-dev",
    ] {
        let Err(why) = check_context(context, None) else {
            panic!("{context:?} passed");
        };
        assert!(why.contains(&format!("{context:?}")), "{why}");
        assert!(why.contains("kind clusters only"), "{why}");
        assert!(why.contains("--allow-context "), "{why}");
    }
    let why = check_context("prod", None).unwrap_err();
    assert!(why.ends_with("pass --allow-context prod"), "{why}");
}

#[test]
fn allow_context_must_name_the_context_exactly() {
    assert_eq!(check_context("prod", Some("prod")), Ok(()));
    assert_eq!(
        check_context("kwok-kube-compactor-e2e", Some("kwok-kube-compactor-e2e")),
        Ok(())
    );
    for named in ["Prod", "prod ", "pro", "production", "", "kind-prod"] {
        let why = check_context("prod", Some(named)).unwrap_err();
        assert!(
            why.contains(&format!(
                "--allow-context names {named:?}, not this context"
            )),
            "{why}"
        );
        assert!(why.ends_with("pass --allow-context prod"), "{why}");
    }
}

#[test]
fn the_suggested_flag_is_one_shell_word() {
    let why = check_context("my cluster", None).unwrap_err();
    assert!(why.ends_with("pass --allow-context 'my cluster'"), "{why}");
    let why = check_context("it's", None).unwrap_err();
    assert!(why.ends_with(r"pass --allow-context 'it'\''s'"), "{why}");
    let why = check_context("", None).unwrap_err();
    assert!(why.ends_with("pass --allow-context ''"), "{why}");
    let arn = "arn:aws:eks:eu-west-1:123456789012:cluster/main";
    let why = check_context(arn, None).unwrap_err();
    assert!(
        why.ends_with(&format!("pass --allow-context {arn}")),
        "{why}"
    );
}
