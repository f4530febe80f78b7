//! The evaluator against Microsoft's documented rules, one row per rule, with Microsoft's
//! published built-in roles (tests/azure-emulator/data/builtin-roles.json, see its NOTICE).

use std::collections::BTreeMap;

use super::*;

const SUB: &str = "/subscriptions/11111111-2222-3333-4444-555555555555";
const ME: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const GROUP: &str = "bbbbbbbb-0000-0000-0000-000000000002";

fn rg() -> String {
    format!("{SUB}/resourceGroups/app")
}
fn acct(name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Storage/storageAccounts/{name}",
        rg()
    )
}
fn container() -> String {
    format!("{}/blobServices/default/containers/c", acct("data"))
}

pub fn builtin_roles() -> Vec<RoleDef> {
    #[derive(serde::Deserialize)]
    struct Raw {
        id: String,
        properties: Props,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Props {
        role_name: String,
        #[serde(rename = "type")]
        role_type: String,
        permissions: Vec<Permission>,
    }
    let raw: Vec<Raw> = serde_json::from_str(include_str!(
        "../../../tests/azure-emulator/data/builtin-roles.json"
    ))
    .unwrap();
    raw.into_iter()
        .map(|r| RoleDef {
            id: r.id,
            name: r.properties.role_name,
            role_type: r.properties.role_type,
            permissions: r.properties.permissions,
        })
        .collect()
}

fn role(name: &str) -> RoleDef {
    builtin_roles()
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no built-in role {name}"))
}

fn assign(role_name: &str, scope: &str, to: &str) -> Assignment {
    let r = role(role_name);
    Assignment {
        id: format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments/{:x}",
            scope.len() * 31 + role_name.len()
        ),
        scope: scope.into(),
        role_definition_id: r.id,
        principal_id: to.into(),
        principal_type: if to == GROUP {
            "Group"
        } else {
            "ServicePrincipal"
        }
        .into(),
        condition: None,
    }
}

fn deny(scope: &str, principals: &[&str], exclude: &[&str], child: bool) -> Deny {
    Deny {
        id: format!("{scope}/providers/Microsoft.Authorization/denyAssignments/d"),
        name: "deny".into(),
        scope: scope.into(),
        permissions: vec![Permission {
            actions: vec!["*".into()],
            data_actions: vec!["*".into()],
            ..Default::default()
        }],
        principals: principals.iter().map(|p| p.to_string()).collect(),
        exclude_principals: exclude.iter().map(|p| p.to_string()).collect(),
        do_not_apply_to_child_scopes: !child,
        condition: None,
    }
}

fn view(applicable: Vec<Assignment>, elsewhere: Vec<Assignment>, denies: Vec<Deny>) -> View {
    let roles: BTreeMap<String, RoleDef> = builtin_roles()
        .into_iter()
        .map(|r| (role_guid(&r.id), r))
        .collect();
    View {
        principal: ME.into(),
        applicable,
        elsewhere,
        denies,
        roles,
    }
}

fn act(a: &str) -> Action {
    Action::parse(a, false).unwrap()
}

const TAG_READ: &str = "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs/tags:Project<$key_case_sensitive$>] StringEquals 'Cascade'))";

#[test]
fn verdicts_follow_the_documented_rules() {
    struct Case {
        why: &'static str,
        action: &'static str,
        scope: String,
        view: View,
        want: Allowed,
    }
    let conditional = |c: &str| {
        let mut a = assign("Storage Blob Data Contributor", &acct("data"), ME);
        a.condition = Some(c.into());
        a
    };
    let cases = vec![
        Case {
            why: "direct assignment at the scope (overview.md step 4-6)",
            action: "blob-read",
            scope: acct("data"),
            view: view(
                vec![assign("Storage Blob Data Reader", &acct("data"), ME)],
                vec![],
                vec![],
            ),
            want: Allowed::Yes,
        },
        Case {
            why: "inherited from the resource group (overview.md 'Scope')",
            action: "blob-read",
            scope: container(),
            view: view(
                vec![assign("Storage Blob Data Reader", &rg(), ME)],
                vec![],
                vec![],
            ),
            want: Allowed::Yes,
        },
        Case {
            why: "through a group the principal is in (overview.md step 2)",
            action: "blob-read",
            scope: acct("data"),
            view: view(
                vec![assign("Storage Blob Data Reader", SUB, GROUP)],
                vec![],
                vec![],
            ),
            want: Allowed::Yes,
        },
        Case {
            why: "held at another storage account only",
            action: "blob-read",
            scope: acct("data"),
            view: view(
                vec![],
                vec![assign("Storage Blob Data Reader", &acct("other"), ME)],
                vec![],
            ),
            want: Allowed::No,
        },
        Case {
            why: "Owner's '*' is control plane: no data access (role-definitions.md 'Control and data actions')",
            action: "blob-read",
            scope: acct("data"),
            view: view(vec![assign("Owner", SUB, ME)], vec![], vec![]),
            want: Allowed::No,
        },
        Case {
            why: "Contributor's notActions take roleAssignments/write away (role-definitions.md 'NotActions')",
            action: "Microsoft.Authorization/roleAssignments/write",
            scope: rg(),
            view: view(vec![assign("Contributor", SUB, ME)], vec![], vec![]),
            want: Allowed::No,
        },
        Case {
            why: "notActions is no deny: another role grants it (role-definitions.md NOTE)",
            action: "Microsoft.Authorization/roleAssignments/write",
            scope: rg(),
            view: view(
                vec![
                    assign("Contributor", SUB, ME),
                    assign("User Access Administrator", &rg(), ME),
                ],
                vec![],
                vec![],
            ),
            want: Allowed::Yes,
        },
        Case {
            why: "a deny assignment wins over Owner (overview.md 'Deny assignments')",
            action: "Microsoft.Storage/storageAccounts/write",
            scope: acct("data"),
            view: view(
                vec![assign("Owner", SUB, ME)],
                vec![],
                vec![deny(&rg(), &[EVERYONE], &[], true)],
            ),
            want: Allowed::No,
        },
        Case {
            why: "excludePrincipals lifts a deny for the principal (deny-assignments.md)",
            action: "Microsoft.Storage/storageAccounts/write",
            scope: acct("data"),
            view: view(
                vec![assign("Owner", SUB, ME)],
                vec![],
                vec![deny(&rg(), &[EVERYONE], &[ME], true)],
            ),
            want: Allowed::Yes,
        },
        Case {
            why: "doNotApplyToChildScopes: a deny at the group does not reach the account",
            action: "Microsoft.Storage/storageAccounts/write",
            scope: acct("data"),
            view: view(
                vec![assign("Owner", SUB, ME)],
                vec![],
                vec![deny(&rg(), &[EVERYONE], &[], false)],
            ),
            want: Allowed::Yes,
        },
        Case {
            why: "doNotApplyToChildScopes still denies at its own scope",
            action: "Microsoft.Resources/subscriptions/resourceGroups/write",
            scope: rg(),
            view: view(
                vec![assign("Owner", SUB, ME)],
                vec![],
                vec![deny(&rg(), &[EVERYONE], &[], false)],
            ),
            want: Allowed::No,
        },
        Case {
            why: "a deny naming a group the principal is in applies",
            action: "blob-read",
            scope: acct("data"),
            view: view(
                vec![assign("Storage Blob Data Reader", SUB, GROUP)],
                vec![],
                vec![deny(&rg(), &[GROUP], &[], true)],
            ),
            want: Allowed::No,
        },
        Case {
            why: "an ABAC condition on the action: conditional (conditions-overview.md)",
            action: "blob-read",
            scope: acct("data"),
            view: view(vec![conditional(TAG_READ)], vec![], vec![]),
            want: Allowed::Conditional,
        },
        Case {
            why: "the condition names blob read only: a write is not restricted by it",
            action: "blob-write",
            scope: acct("data"),
            view: view(vec![conditional(TAG_READ)], vec![], vec![]),
            want: Allowed::Yes,
        },
        Case {
            why: "an unconditional grant beside a conditional one: yes (roles add up)",
            action: "blob-read",
            scope: acct("data"),
            view: view(
                vec![
                    conditional(TAG_READ),
                    assign("Storage Blob Data Reader", &rg(), ME),
                ],
                vec![],
                vec![],
            ),
            want: Allowed::Yes,
        },
        Case {
            why: "permission strings are case-insensitive (custom-roles.md 'Wildcard permissions')",
            action: "MICROSOFT.STORAGE/storageaccounts/BLOBSERVICES/containers/blobs/READ",
            scope: acct("data"),
            view: view(
                vec![assign("Storage Blob Data Owner", &acct("data"), ME)],
                vec![],
                vec![],
            ),
            want: Allowed::Yes,
        },
    ];
    for c in cases {
        let d = evaluate(&c.scope, &act(c.action), &c.view);
        assert_eq!(d.allowed, c.want, "{}: {d:#?}", c.why);
    }
}

#[test]
fn explains_each_answer() {
    let a = act("blob-read");
    let d = evaluate(
        &container(),
        &a,
        &view(
            vec![assign("Storage Blob Data Reader", SUB, GROUP)],
            vec![],
            vec![],
        ),
    );
    assert_eq!(d.granted[0].group.as_deref(), Some(GROUP));
    assert!(d.granted[0].inherited);
    assert_eq!(d.granted[0].pattern, a.name);

    let d = evaluate(
        &acct("data"),
        &a,
        &view(
            vec![assign("Contributor", &rg(), ME)],
            vec![
                assign(
                    "Storage Blob Data Reader",
                    &format!(
                        "{SUB}/resourceGroups/far/providers/Microsoft.Storage/storageAccounts/x"
                    ),
                    ME,
                ),
                assign("Storage Blob Data Reader", &acct("other"), ME),
            ],
            vec![],
        ),
    );
    assert_eq!(d.allowed, Allowed::No);
    match &d.misses[..] {
        [
            Miss::ControlPlaneOnly { role, pattern, .. },
            Miss::OtherScope { scope: near, .. },
            Miss::OtherScope { scope: far, .. },
        ] => {
            assert_eq!((role.as_str(), pattern.as_str()), ("Contributor", "*"));
            assert_eq!(near, &acct("other"), "the sibling account is nearest");
            assert!(far.contains("/far/"));
        }
        other => panic!("{other:#?}"),
    }

    let d = evaluate(
        &rg(),
        &act("Microsoft.Authorization/roleAssignments/write"),
        &view(vec![assign("Contributor", SUB, ME)], vec![], vec![]),
    );
    assert!(
        matches!(&d.misses[0], Miss::NotActions { not_action, .. } if not_action == "Microsoft.Authorization/*/Write")
    );

    let d = evaluate(
        &acct("data"),
        &act("Microsoft.Storage/storageAccounts/write"),
        &view(
            vec![assign("Owner", SUB, ME)],
            vec![],
            vec![deny(&rg(), &[EVERYONE], &[], true)],
        ),
    );
    assert_eq!(d.denied[0].scope, rg());
    assert_eq!(d.granted.len(), 1, "the grant is still shown");

    let mut v = view(vec![assign("Reader", SUB, ME)], vec![], vec![]);
    v.roles.clear();
    let d = evaluate(
        &rg(),
        &act("Microsoft.Resources/subscriptions/resourceGroups/read"),
        &v,
    );
    assert_eq!((d.allowed, d.unread_roles.len()), (Allowed::No, 1));
}

#[test]
fn a_conditional_deny_makes_a_yes_conditional() {
    let mut dn = deny(&rg(), &[EVERYONE], &[], true);
    dn.condition = Some("@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'x'".into());
    let d = evaluate(
        &acct("data"),
        &act("blob-read"),
        &view(
            vec![assign("Storage Blob Data Reader", &rg(), ME)],
            vec![],
            vec![dn],
        ),
    );
    assert_eq!(d.allowed, Allowed::Conditional);
}

#[test]
fn an_assignment_listed_above_must_be_above() {
    // ARM answers atScope() with scopes at or above; a subscription-rooted scope that does not
    // cover the target is not trusted to apply.
    let d = evaluate(
        &acct("data"),
        &act("blob-read"),
        &view(
            vec![assign("Storage Blob Data Reader", &acct("other"), ME)],
            vec![],
            vec![],
        ),
    );
    assert_eq!(d.allowed, Allowed::No);
    // A management-group scope cannot be placed by its string: ARM's word is taken.
    let mg = "/providers/Microsoft.Management/managementGroups/corp";
    let d = evaluate(
        &acct("data"),
        &act("blob-read"),
        &view(
            vec![assign("Storage Blob Data Reader", mg, ME)],
            vec![],
            vec![],
        ),
    );
    assert_eq!(d.allowed, Allowed::Yes);
    assert!(d.granted[0].inherited);
}

#[test]
fn several_permission_entries_are_alternatives() {
    // roles.json README rule 6: each entry is its own (actions - notActions) set.
    let mut v = view(vec![], vec![], vec![]);
    let custom = RoleDef {
        id: format!(
            "{SUB}/providers/Microsoft.Authorization/roleDefinitions/cccccccc-0000-0000-0000-000000000003"
        ),
        name: "Custom".into(),
        role_type: "CustomRole".into(),
        permissions: vec![
            Permission {
                actions: vec!["Microsoft.Storage/*".into()],
                not_actions: vec!["Microsoft.Storage/storageAccounts/delete".into()],
                ..Default::default()
            },
            Permission {
                actions: vec!["Microsoft.Storage/storageAccounts/delete".into()],
                ..Default::default()
            },
        ],
    };
    v.roles.insert(role_guid(&custom.id), custom.clone());
    v.applicable.push(Assignment {
        id: "a".into(),
        scope: rg(),
        role_definition_id: custom.id.clone(),
        principal_id: ME.into(),
        principal_type: "ServicePrincipal".into(),
        condition: None,
    });
    let d = evaluate(
        &acct("data"),
        &act("Microsoft.Storage/storageAccounts/delete"),
        &v,
    );
    assert_eq!(d.allowed, Allowed::Yes);
}

#[test]
fn narrowest_role_and_the_short_name_table() {
    let roles = builtin_roles();
    for (action, want) in [
        ("blob-read", "Storage Blob Data Reader"),
        (
            "Microsoft.Authorization/roleAssignments/write",
            "Role Based Access Control Administrator",
        ),
        (
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
            "Managed Identity Contributor",
        ),
        ("Microsoft.Storage/storageAccounts/write", "Contributor"),
    ] {
        assert_eq!(
            narrowest(&act(action), &roles).map(|r| r.name.as_str()),
            Some(want),
            "{action}"
        );
    }
    // Each short name's role is the narrowest built-in that grants it.
    for s in action::SHORT_NAMES {
        let a = act(s.name);
        assert_eq!(
            narrowest(&a, &roles).map(|r| r.name.as_str()),
            Some(s.role),
            "{}",
            s.name
        );
    }
}

#[test]
fn commands_are_shell_safe() {
    assert_eq!(
        az_grant(ME, "Storage Blob Data Reader", &acct("data")),
        format!(
            "az role assignment create --assignee-object-id {ME} --assignee-principal-type ServicePrincipal --role 'Storage Blob Data Reader' --scope {}",
            acct("data")
        )
    );
    assert_eq!(shell_word("it's"), "'it'\\''s'");
}
