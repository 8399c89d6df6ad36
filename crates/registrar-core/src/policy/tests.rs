use super::*;

fn policy(name: &str, bind: Vec<Binding>) -> Policy {
    Policy {
        bind,
        ..Policy::unrestricted(name)
    }
}

fn statement(issuer: Option<&str>, software_id: Option<&str>) -> Binding {
    Binding::SoftwareStatement {
        issuer: issuer.map(str::to_owned),
        software_id: software_id.map(str::to_owned),
    }
}

fn name(policy: Option<Arc<Policy>>) -> String {
    policy.map_or_else(|| "<none>".to_owned(), |policy| policy.name.clone())
}

#[test]
fn routes_fall_back_to_the_built_in_policies() {
    let policies = Policies::default();
    assert_eq!(name(policies.resolve(Route::Open, None)), OPEN_POLICY);
    assert_eq!(name(policies.resolve(Route::Bearer, None)), DEFAULT_POLICY);
    assert_eq!(name(policies.resolve(Route::Host, None)), DEFAULT_POLICY);
    assert_eq!(
        name(policies.resolve(Route::InitialToken { policy: None }, None)),
        DEFAULT_POLICY
    );
    let open = policies.resolve(Route::Open, None).expect("open");
    assert!(!open.allow_client_credentials && !open.allow_introspection);
    assert!(!open.allow_registration_scope);
}

#[test]
fn a_token_naming_an_unknown_policy_resolves_to_none() {
    let policies = Policies::default();
    assert!(
        policies
            .resolve(
                Route::InitialToken {
                    policy: Some("gone")
                },
                None
            )
            .is_none()
    );
}

#[test]
fn the_most_specific_statement_binding_wins_and_a_token_policy_beats_it() {
    let policies = Policies::new(vec![
        policy("any-statement", vec![statement(None, None)]),
        policy(
            "partner",
            vec![statement(Some("https://partner.example"), None)],
        ),
        policy(
            "partner-app",
            vec![statement(Some("https://partner.example"), Some("app-1"))],
        ),
        policy("ci", vec![Binding::Bearer]),
        policy("admin", vec![]),
    ])
    .expect("policies");
    let of = |issuer, software_id| {
        Some(StatementRoute {
            issuer,
            software_id,
        })
    };
    assert_eq!(
        name(policies.resolve(Route::Open, of("https://partner.example", Some("app-1")))),
        "partner-app"
    );
    assert_eq!(
        name(policies.resolve(Route::Open, of("https://partner.example", Some("app-2")))),
        "partner"
    );
    assert_eq!(
        name(policies.resolve(Route::Open, of("https://other.example", None))),
        "any-statement"
    );
    assert_eq!(name(policies.resolve(Route::Bearer, None)), "ci");
    assert_eq!(
        name(policies.resolve(
            Route::InitialToken {
                policy: Some("admin")
            },
            of("https://partner.example", None)
        )),
        "admin"
    );
    assert!(
        policies
            .get("partner")
            .is_some_and(|policy| policy.requires_software_statement)
    );
}

#[test]
fn a_policy_bound_to_open_replaces_the_built_in_one() {
    let policies = Policies::new(vec![policy("public", vec![Binding::Open])]).expect("policies");
    assert_eq!(name(policies.resolve(Route::Open, None)), "public");
    assert!(policies.get(OPEN_POLICY).is_none());
    // A client stored under the built-in name now gets the configured open policy.
    assert_eq!(policies.for_client(Some(OPEN_POLICY), true).name, "public");
}

#[test]
fn two_policies_on_one_route_and_bad_names_are_refused() {
    let conflict = Policies::new(vec![
        policy("a", vec![Binding::Bearer]),
        policy("b", vec![Binding::Bearer]),
    ]);
    assert!(matches!(conflict, Err(PolicyError::Conflict { .. })));
    let conflict = Policies::new(vec![
        policy("a", vec![Binding::Open]),
        policy(OPEN_POLICY, vec![]),
    ]);
    assert!(matches!(conflict, Err(PolicyError::Conflict { .. })));
    assert!(matches!(
        Policies::new(vec![policy("no spaces", vec![])]),
        Err(PolicyError::BadName(_))
    ));
}

#[test]
fn clients_keep_their_policy_and_removed_policies_fall_back_to_open_rules() {
    let policies = Policies::new(vec![policy("ci", vec![])]).expect("policies");
    assert_eq!(policies.for_client(Some("ci"), false).name, "ci");
    assert_eq!(policies.for_client(None, false).name, DEFAULT_POLICY);
    assert_eq!(policies.for_client(None, true).name, OPEN_POLICY);
    assert_eq!(
        policies.for_client(Some("removed"), false).name,
        OPEN_POLICY
    );
}

#[test]
fn host_patterns_match_exact_hosts_and_subdomains() {
    let exact = HostPattern::parse("App.Example.com").expect("pattern");
    assert!(exact.matches("app.example.com"));
    assert!(!exact.matches("evil.app.example.com"));
    let subdomains = HostPattern::parse("*.example.com").expect("pattern");
    assert!(subdomains.matches("a.example.com"));
    assert!(subdomains.matches("a.b.example.com"));
    assert!(!subdomains.matches("example.com"));
    assert!(!subdomains.matches("badexample.com"));
    assert!(
        HostPattern::parse("*")
            .expect("pattern")
            .matches("anything")
    );
    for bad in ["", "*.", "a*.example.com", "exa mple.com", "*example.com"] {
        assert!(HostPattern::parse(bad).is_err(), "{bad:?} must be refused");
    }
}

#[test]
fn statements_alone_get_open_rules_and_cannot_lift_a_bearer_policy() {
    let policies = Policies::new(vec![
        policy("ci", vec![Binding::Bearer]),
        policy(
            "partner",
            vec![statement(Some("https://partner.example"), None)],
        ),
    ])
    .expect("policies");
    assert_eq!(
        name(policies.resolve(Route::SoftwareStatement, None)),
        OPEN_POLICY
    );
    let partner = Some(StatementRoute {
        issuer: "https://partner.example",
        software_id: None,
    });
    assert_eq!(
        name(policies.resolve(Route::SoftwareStatement, partner)),
        "partner"
    );
    assert_eq!(name(policies.resolve(Route::Bearer, partner)), "ci");
    assert_eq!(
        name(Policies::default().resolve(Route::Bearer, partner)),
        DEFAULT_POLICY
    );
}
