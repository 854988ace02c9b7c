//! Users, tokens, groups, projects, members and settings: the substrate the job token scope
//! endpoints stand on, with GitLab's shapes and messages.

use jobscope_store::MemberSource;
use jobscope_types::{AccessLevel, Visibility};
use serde_json::{Value, json};

use crate::helpers::*;

async fn expect(app: &TestApp, req: Req, status: u16) -> Value {
    let res = app.send(req).await;
    assert_eq!(res.status.as_u16(), status, "{}", res.text);
    res.json()
}

fn msg(s: &str) -> Value {
    json!({ "message": s })
}

#[tokio::test]
async fn users_are_created_and_shown_like_gitlab() {
    let app = TestApp::new().await;
    let body = json!({"email": "alice@example.com", "username": "alice", "name": "Alice", "password": "correct-horse"});
    let alice = expect(
        &app,
        post("/api/v4/users").token(ROOT_TOKEN).json(body.clone()),
        201,
    )
    .await;
    assert_eq!(alice["username"], "alice");
    assert_eq!(alice["state"], "active");
    assert_eq!(alice["is_admin"], false);
    assert_eq!(alice["web_url"], "http://jobscope.test/alice");
    assert!(alice["namespace_id"].is_i64());
    assert_eq!(
        expect(
            &app,
            post("/api/v4/users").token(ROOT_TOKEN).json(body.clone()),
            409
        )
        .await,
        msg("Email has already been taken")
    );
    let mut same_name = body.clone();
    same_name["email"] = json!("other@example.com");
    assert_eq!(
        expect(
            &app,
            post("/api/v4/users").token(ROOT_TOKEN).json(same_name),
            409
        )
        .await,
        msg("Username has already been taken")
    );
    assert_eq!(
        expect(
            &app,
            post("/api/v4/users").token(ROOT_TOKEN).json(json!({})),
            400
        )
        .await,
        json!({"error": "email is missing, name is missing, username is missing, password, reset_password, force_random_password are missing, at least one parameter must be provided"})
    );
    let short =
        json!({"email": "b@example.com", "username": "bob", "name": "Bob", "password": "short"});
    assert_eq!(
        expect(
            &app,
            post("/api/v4/users").token(ROOT_TOKEN).json(short),
            400
        )
        .await,
        json!({"message": {"password": ["is too short (minimum is 8 characters)"]}})
    );
    let bad = json!({"email": "c@example.com", "username": "bad name", "name": "C", "reset_password": true});
    let errs = expect(&app, post("/api/v4/users").token(ROOT_TOKEN).json(bad), 400).await;
    assert!(!errs["message"]["username"].as_array().unwrap().is_empty());
    // Listing and lookup.
    let found = expect(
        &app,
        get("/api/v4/users?username=ALICE").token(ROOT_TOKEN),
        200,
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let alice_id = alice["id"].as_i64().unwrap();
    let (_, other) = app.user_with_token("other").await;
    let listed = expect(&app, get("/api/v4/users").token(&other), 200).await;
    assert!(listed[0].get("email").is_none(), "non-admins see UserBasic");
    let one = expect(
        &app,
        get(format!("/api/v4/users/{alice_id}")).token(&other),
        200,
    )
    .await;
    assert!(one.get("email").is_none() && one.get("created_at").is_some());
    assert_eq!(
        expect(&app, get("/api/v4/users/424242").token(ROOT_TOKEN), 404).await,
        msg("404 User Not Found")
    );
    assert_eq!(
        expect(&app, get("/api/v4/users/abc").token(ROOT_TOKEN), 404).await,
        json!({"error": "404 Not Found"})
    );
    // The user's own view has the private fields.
    let me = expect(&app, get("/api/v4/user").token(&other), 200).await;
    assert_eq!(me["email"], "other@example.com");
    assert!(me.get("is_admin").is_none());
    // Update.
    let updated = expect(
        &app,
        put(format!("/api/v4/users/{alice_id}"))
            .token(ROOT_TOKEN)
            .json(json!({"name": "Alice B", "external": true})),
        200,
    )
    .await;
    assert_eq!(updated["name"], "Alice B");
    assert_eq!(updated["external"], true);
}

#[tokio::test]
async fn blocking_and_deleting_users() {
    let app = TestApp::new().await;
    let (u, token) = app.user_with_token("victim").await;
    let path = format!("/api/v4/users/{}", u.id);
    assert_eq!(
        expect(&app, post(format!("{path}/block")).token(ROOT_TOKEN), 201).await,
        json!(true)
    );
    assert_eq!(
        expect(&app, post(format!("{path}/block")).token(ROOT_TOKEN), 201).await,
        Value::Null
    );
    assert_eq!(
        expect(&app, get("/api/v4/user").token(&token), 403).await,
        msg("403 Forbidden - Your account has been blocked.")
    );
    assert_eq!(
        expect(&app, post(format!("{path}/unblock")).token(ROOT_TOKEN), 201).await,
        json!(true)
    );
    assert_eq!(
        expect(&app, post(format!("{path}/unblock")).token(ROOT_TOKEN), 201).await,
        json!(false)
    );
    expect(&app, get("/api/v4/user").token(&token), 200).await;
    assert_eq!(
        expect(
            &app,
            post(format!("{path}/deactivate")).token(ROOT_TOKEN),
            201
        )
        .await,
        json!(true)
    );
    assert_eq!(
        expect(&app, post(format!("{path}/unblock")).token(ROOT_TOKEN), 403).await,
        msg("403 Forbidden - Deactivated users cannot be unblocked by the API")
    );
    assert_eq!(
        expect(
            &app,
            post(format!("{path}/activate")).token(ROOT_TOKEN),
            201
        )
        .await,
        json!(true)
    );
    let root = app.store.user_by_username("root").await.unwrap().unwrap();
    assert_eq!(
        expect(
            &app,
            post(format!("/api/v4/users/{}/block", root.id)).token(ROOT_TOKEN),
            403
        )
        .await,
        msg("403 Forbidden - The API initiating user cannot be blocked by the API")
    );
    // The sole owner of a group cannot be deleted without hard_delete.
    let g = app.group("owned", None, Visibility::Private).await;
    app.member(MemberSource::Namespace(g.id), u.id, AccessLevel::Owner)
        .await;
    assert_eq!(
        expect(&app, delete(&path).token(ROOT_TOKEN), 409).await,
        msg("User cannot be removed while is the sole-owner of a group")
    );
    let res = app
        .send(delete(format!("{path}?hard_delete=true")).token(ROOT_TOKEN))
        .await;
    assert_eq!(res.status.as_u16(), 204);
    assert_eq!(
        expect(&app, get("/api/v4/user").token(&token), 401).await,
        msg("401 Unauthorized")
    );
}

#[tokio::test]
async fn personal_access_tokens() {
    let app = TestApp::new().await;
    let u = app.user("tokenuser").await;
    let path = format!("/api/v4/users/{}/personal_access_tokens", u.id);
    assert_eq!(
        expect(&app, post(&path).token(ROOT_TOKEN).json(json!({})), 400).await,
        json!({"error": "name is missing, scopes is missing"})
    );
    assert_eq!(
        expect(
            &app,
            post(&path)
                .token(ROOT_TOKEN)
                .json(json!({"name": "x", "scopes": ["api", "nope"]})),
            400
        )
        .await,
        json!({"error": "scopes does not have a valid value"})
    );
    assert_eq!(
        expect(
            &app,
            post(&path)
                .token(ROOT_TOKEN)
                .json(json!({"name": "x", "scopes": ["api"], "expires_at": "soon"})),
            400
        )
        .await,
        json!({"error": "expires_at is invalid"})
    );
    let created = expect(
        &app,
        post(&path)
            .token(ROOT_TOKEN)
            .json(json!({"name": "ci", "scopes": ["api", "read_api"], "expires_at": "2099-01-01"})),
        201,
    )
    .await;
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("glpat-"));
    assert_eq!(created["scopes"], json!(["api", "read_api"]));
    assert_eq!(created["expires_at"], "2099-01-01");
    assert_eq!(created["active"], true);
    // The plaintext is never shown again, and never stored.
    let me = expect(
        &app,
        get("/api/v4/personal_access_tokens/self").token(&token),
        200,
    )
    .await;
    assert_eq!(me["id"], created["id"]);
    assert!(me.get("token").is_none());
    let listed = expect(
        &app,
        get("/api/v4/personal_access_tokens").token(&token),
        200,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // Rotation: a new token works, the old one is revoked.
    let rotated = expect(
        &app,
        post("/api/v4/personal_access_tokens/self/rotate")
            .token(&token)
            .json(json!({})),
        200,
    )
    .await;
    let new_token = rotated["token"].as_str().unwrap().to_owned();
    assert_ne!(new_token, token);
    // Without `expires_at`, the new token expires a week from today, as on GitLab.
    let week = (chrono::Utc::now().date_naive() + chrono::Days::new(7)).to_string();
    assert_eq!(rotated["expires_at"], json!(week));
    expect(&app, get("/api/v4/user").token(&new_token), 200).await;
    assert_eq!(
        expect(&app, get("/api/v4/user").token(&token), 401).await,
        json!({"error": "invalid_token", "error_description": "Token was revoked. You have to re-authorize from the user."})
    );
    // Someone else's token: 400 on revoke, 401 on show (GitLab's answers).
    let (_, other) = app.user_with_token("other").await;
    let id = rotated["id"].as_i64().unwrap();
    assert_eq!(
        expect(
            &app,
            delete(format!("/api/v4/personal_access_tokens/{id}")).token(&other),
            400
        )
        .await,
        msg("400 Bad request")
    );
    assert_eq!(
        expect(
            &app,
            get(format!("/api/v4/personal_access_tokens/{id}")).token(&other),
            401
        )
        .await,
        msg("401 Unauthorized")
    );
    assert_eq!(
        expect(
            &app,
            delete("/api/v4/personal_access_tokens/424242").token(ROOT_TOKEN),
            404
        )
        .await,
        msg("404 Not found")
    );
    let res = app
        .send(delete(format!("/api/v4/personal_access_tokens/{id}")).token(&new_token))
        .await;
    assert_eq!(res.status.as_u16(), 204);
    expect(&app, get("/api/v4/user").token(&new_token), 401).await;
    // No token is on disk in plaintext, only its digest.
    let bytes = app.database_bytes();
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    for t in [&token, &new_token, ROOT_TOKEN] {
        assert!(!contains(t), "plaintext token on disk");
    }
    assert!(contains(&app.tokens.digest(&new_token)));
    // A maximum lifetime bounds expiries and sets the default.
    expect(
        &app,
        put("/api/v4/application/settings")
            .token(ROOT_TOKEN)
            .json(json!({"max_personal_access_token_lifetime": 30})),
        200,
    )
    .await;
    let res = expect(
        &app,
        post(&path)
            .token(ROOT_TOKEN)
            .json(json!({"name": "far", "scopes": ["api"], "expires_at": "2099-01-01"})),
        422,
    )
    .await;
    assert!(
        res["message"]
            .as_str()
            .unwrap()
            .starts_with("Expires at must be before ")
    );
    let defaulted = expect(
        &app,
        post(&path)
            .token(ROOT_TOKEN)
            .json(json!({"name": "d", "scopes": ["api"]})),
        201,
    )
    .await;
    assert!(defaulted["expires_at"].is_string());
    // Rotation's default week is shortened to a shorter maximum lifetime.
    expect(
        &app,
        put("/api/v4/application/settings")
            .token(ROOT_TOKEN)
            .json(json!({"max_personal_access_token_lifetime": 3})),
        200,
    )
    .await;
    let id = defaulted["id"].as_i64().unwrap();
    let rotated = expect(
        &app,
        post(format!("/api/v4/personal_access_tokens/{id}/rotate")).token(ROOT_TOKEN),
        200,
    )
    .await;
    let three_days = (chrono::Utc::now().date_naive() + chrono::Days::new(3)).to_string();
    assert_eq!(rotated["expires_at"], json!(three_days));
}

#[tokio::test]
async fn groups_nest_and_validate() {
    let app = TestApp::new().await;
    let (u, token) = app.user_with_token("creator").await;
    let top = expect(
        &app,
        post("/api/v4/groups")
            .token(&token)
            .json(json!({"name": "Acme", "path": "acme", "visibility": "internal"})),
        201,
    )
    .await;
    assert_eq!(top["full_path"], "acme");
    assert_eq!(top["web_url"], "http://jobscope.test/groups/acme");
    let top_id = top["id"].as_i64().unwrap();
    // The creator became Owner.
    let m = app
        .store
        .member(
            MemberSource::Namespace(jobscope_types::NamespaceId(top_id)),
            u.id,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.access_level, AccessLevel::Owner);
    let sub = expect(
        &app,
        post("/api/v4/groups").token(&token).json(
            json!({"name": "Tools", "path": "tools", "parent_id": top_id, "visibility": "private"}),
        ),
        201,
    )
    .await;
    assert_eq!(sub["full_path"], "acme/tools");
    assert_eq!(sub["full_name"], "Acme / Tools");
    assert_eq!(sub["parent_id"], top_id);
    let by_path = expect(&app, get("/api/v4/groups/acme%2Ftools").token(&token), 200).await;
    assert_eq!(by_path["id"], sub["id"]);
    expect(&app, get("/api/v4/groups/acme").token(&token), 200).await;
    assert_eq!(
        expect(
            &app,
            post("/api/v4/groups").token(&token).json(
                json!({"name": "Pub", "path": "pub", "parent_id": top_id, "visibility": "public"})
            ),
            400
        )
        .await,
        msg(
            "Failed to save group {:visibility_level=>[\"public is not allowed since the parent group has a internal visibility.\"]}"
        )
    );
    assert_eq!(
        expect(
            &app,
            post("/api/v4/groups")
                .token(&token)
                .json(json!({"name": "Acme", "path": "ACME"})),
            400
        )
        .await,
        msg("Failed to save group {:path=>[\"has already been taken\"]}")
    );
    assert_eq!(
        expect(
            &app,
            post("/api/v4/groups")
                .token(&token)
                .json(json!({"name": "TOOLS", "path": "tools2", "parent_id": top_id})),
            400
        )
        .await,
        msg("Failed to save group {:name=>[\"has already been taken\"]}")
    );
    let bad = expect(
        &app,
        post("/api/v4/groups")
            .token(&token)
            .json(json!({"name": "x", "path": "bad path"})),
        400,
    )
    .await;
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .starts_with("Failed to save group {:path=>")
    );
    assert_eq!(
        expect(
            &app,
            post("/api/v4/groups")
                .token(&token)
                .json(json!({"name": "api", "path": "api"})),
            400
        )
        .await,
        msg("Failed to save group {:path=>[\"api is a reserved name\"]}")
    );
    assert_eq!(
        expect(
            &app,
            post("/api/v4/groups")
                .token(&token)
                .json(json!({"name": "x", "path": "xy", "visibility": "secret"})),
            400
        )
        .await,
        json!({"error": "visibility does not have a valid value"})
    );
    // Someone else may not create a subgroup there (404 for a private parent they cannot see,
    // 403 for a visible one).
    let (_, stranger) = app.user_with_token("stranger").await;
    assert_eq!(
        expect(
            &app,
            post("/api/v4/groups")
                .token(&stranger)
                .json(json!({"name": "S", "path": "s1", "parent_id": sub["id"]})),
            404
        )
        .await,
        msg("404 Group Not Found")
    );
    assert_eq!(
        expect(
            &app,
            post("/api/v4/groups")
                .token(&stranger)
                .json(json!({"name": "S", "path": "s2", "parent_id": top_id})),
            403
        )
        .await,
        msg("403 Forbidden")
    );
    // Lists: members see their groups; subgroups and descendants.
    let mine = expect(&app, get("/api/v4/groups").token(&token), 200).await;
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let theirs = expect(&app, get("/api/v4/groups").token(&stranger), 200).await;
    assert!(theirs.as_array().unwrap().is_empty());
    let available = expect(
        &app,
        get("/api/v4/groups?all_available=true").token(&stranger),
        200,
    )
    .await;
    assert_eq!(
        available.as_array().unwrap().len(),
        1,
        "the internal group only"
    );
    let subs = expect(
        &app,
        get(format!("/api/v4/groups/{top_id}/subgroups")).token(&token),
        200,
    )
    .await;
    assert_eq!(subs.as_array().unwrap().len(), 1);
    // Deleting cascades.
    let res = app
        .send(delete(format!("/api/v4/groups/{top_id}")).token(&token))
        .await;
    assert_eq!(res.status.as_u16(), 202);
    assert_eq!(res.json(), msg("202 Accepted"));
    expect(&app, get("/api/v4/groups/acme%2Ftools").token(&token), 404).await;
}

#[tokio::test]
async fn projects_are_created_in_groups_and_personal_namespaces() {
    let app = TestApp::new().await;
    let (u, token) = app.user_with_token("dev").await;
    let g = app.group("acme", None, Visibility::Internal).await;
    // Not a member: the namespace is not valid.
    assert_eq!(
        expect(
            &app,
            post("/api/v4/projects")
                .token(&token)
                .json(json!({"name": "x", "namespace_id": g.id})),
            400
        )
        .await,
        json!({"message": {"namespace": ["is not valid"]}})
    );
    app.member(MemberSource::Namespace(g.id), u.id, AccessLevel::Developer)
        .await;
    let p = expect(
        &app,
        post("/api/v4/projects")
            .token(&token)
            .json(json!({"name": "My Tool", "namespace_id": g.id, "visibility": "public"})),
        201,
    )
    .await;
    assert_eq!(p["path"], "my-tool");
    assert_eq!(p["path_with_namespace"], "acme/my-tool");
    assert_eq!(
        p["visibility"], "internal",
        "lowered to the group's visibility"
    );
    assert!(p.get("owner").is_none());
    // A Developer who creates a project administers it.
    assert_eq!(p["permissions"]["project_access"]["access_level"], 40);
    assert_eq!(p["permissions"]["group_access"]["access_level"], 30);
    assert_eq!(
        expect(
            &app,
            post("/api/v4/projects")
                .token(&token)
                .json(json!({"name": "My Tool", "namespace_id": g.id})),
            400
        )
        .await,
        json!({"message": {"name": ["has already been taken"], "path": ["has already been taken"]}})
    );
    assert_eq!(
        expect(
            &app,
            post("/api/v4/projects")
                .token(&token)
                .json(json!({"name": "My Tool", "path": "other", "namespace_id": g.id})),
            400
        )
        .await,
        json!({"message": {"name": ["has already been taken"]}})
    );
    assert_eq!(
        expect(
            &app,
            post("/api/v4/projects").token(&token).json(json!({})),
            400
        )
        .await,
        json!({"error": "name, path are missing, at least one parameter must be provided"})
    );
    // Personal namespace, by default.
    let mine = expect(
        &app,
        post("/api/v4/projects")
            .token(&token)
            .json(json!({"path": "scratch"})),
        201,
    )
    .await;
    assert_eq!(mine["path_with_namespace"], "dev/scratch");
    assert_eq!(mine["owner"]["username"], "dev");
    assert_eq!(mine["namespace"]["kind"], "user");
    assert_eq!(mine["permissions"]["project_access"]["access_level"], 50);
    // An administrator creates one for a user.
    let theirs = expect(
        &app,
        post(format!("/api/v4/projects/user/{}", u.id))
            .token(ROOT_TOKEN)
            .json(json!({"name": "gift"})),
        201,
    )
    .await;
    assert_eq!(theirs["path_with_namespace"], "dev/gift");
    // Lookup by path; lists.
    expect(
        &app,
        get("/api/v4/projects/acme%2Fmy-tool").token(&token),
        200,
    )
    .await;
    let owned = expect(&app, get("/api/v4/projects?owned=true").token(&token), 200).await;
    assert_eq!(owned.as_array().unwrap().len(), 2);
    let member = expect(
        &app,
        get("/api/v4/projects?membership=true&simple=true").token(&token),
        200,
    )
    .await;
    assert_eq!(member.as_array().unwrap().len(), 3);
    assert!(member[0].get("permissions").is_none());
    // Only an Owner (or admin) deletes.
    let pid = p["id"].as_i64().unwrap();
    assert_eq!(
        expect(
            &app,
            delete(format!("/api/v4/projects/{pid}")).token(&token),
            403
        )
        .await,
        msg("403 Forbidden")
    );
    let res = app
        .send(delete(format!("/api/v4/projects/{}", mine["id"])).token(&token))
        .await;
    assert_eq!(res.status.as_u16(), 202);
}

#[tokio::test]
async fn members_inherit_and_are_guarded() {
    let app = TestApp::new().await;
    let (owner, owner_token) = app.user_with_token("owner").await;
    let (maint, maint_token) = app.user_with_token("maint").await;
    let dev = app.user("dev").await;
    let g = app.group("acme", None, Visibility::Private).await;
    let p = app.project(g.id, "app", Visibility::Private).await;
    app.member(MemberSource::Namespace(g.id), owner.id, AccessLevel::Owner)
        .await;
    app.member(
        MemberSource::Project(p.id),
        maint.id,
        AccessLevel::Maintainer,
    )
    .await;
    let members = format!("/api/v4/projects/{}/members", p.id);
    let added = expect(
        &app,
        post(&members)
            .token(&maint_token)
            .json(json!({"user_id": dev.id, "access_level": 30})),
        201,
    )
    .await;
    assert_eq!(added["access_level"], 30);
    assert_eq!(added["username"], "dev");
    assert_eq!(added["created_by"]["username"], "maint");
    assert_eq!(
        expect(
            &app,
            post(&members)
                .token(&maint_token)
                .json(json!({"user_id": dev.id, "access_level": 30})),
            409
        )
        .await,
        msg("Member already exists")
    );
    assert_eq!(
        expect(
            &app,
            post(&members)
                .token(&maint_token)
                .json(json!({"user_id": 424242, "access_level": 30})),
            404
        )
        .await,
        msg("404 User Not Found")
    );
    assert_eq!(
        expect(
            &app,
            post(&members)
                .token(&maint_token)
                .json(json!({"user_id": dev.id, "access_level": 35})),
            400
        )
        .await,
        json!({"error": "access_level does not have a valid value"})
    );
    // A Maintainer may not make Owners.
    let other = app.user("other").await;
    assert_eq!(
        expect(
            &app,
            post(&members)
                .token(&maint_token)
                .json(json!({"username": "other", "access_level": 50})),
            403
        )
        .await,
        msg("403 Forbidden")
    );
    // A project role below the inherited group role is refused.
    assert_eq!(
        expect(
            &app,
            post(&members)
                .token(&owner_token)
                .json(json!({"user_id": owner.id, "access_level": 30})),
            400
        )
        .await,
        json!({"message": {"access_level": ["should be greater than or equal to Owner inherited membership from group Group acme"]}})
    );
    // members/all: one row per user, the highest role.
    let all = expect(&app, get(format!("{members}/all")).token(&maint_token), 200).await;
    let levels: Vec<(String, i64)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["username"].as_str().unwrap().to_owned(),
                m["access_level"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(levels.contains(&("owner".into(), 50)));
    assert!(levels.contains(&("maint".into(), 40)));
    assert!(levels.contains(&("dev".into(), 30)));
    assert_eq!(
        expect(
            &app,
            get(format!("{members}/{}", owner.id)).token(&maint_token),
            404
        )
        .await,
        msg("404 Not found")
    );
    assert_eq!(
        expect(
            &app,
            get(format!("{members}/all/{}", owner.id)).token(&maint_token),
            200
        )
        .await["access_level"],
        50
    );
    // Update and remove.
    let updated = expect(
        &app,
        put(format!("{members}/{}", dev.id))
            .token(&maint_token)
            .json(json!({"access_level": 20})),
        200,
    )
    .await;
    assert_eq!(updated["access_level"], 20);
    assert_eq!(
        app.send(delete(format!("{members}/{}", dev.id)).token(&maint_token))
            .await
            .status
            .as_u16(),
        204
    );
    // The last Owner of a group stays.
    let gm = format!("/api/v4/groups/{}/members", g.id);
    assert_eq!(
        expect(
            &app,
            delete(format!("{gm}/{}", owner.id)).token(&owner_token),
            403
        )
        .await,
        msg("403 Forbidden")
    );
    assert_eq!(
        expect(
            &app,
            put(format!("{gm}/{}", owner.id))
                .token(&owner_token)
                .json(json!({"access_level": 40})),
            403
        )
        .await,
        msg("403 Forbidden")
    );
    // A member may leave.
    expect(
        &app,
        post(&gm)
            .token(&owner_token)
            .json(json!({"user_id": other.id, "access_level": 10})),
        201,
    )
    .await;
    let other_token = app.token(other.id).await;
    assert_eq!(
        app.send(delete(format!("{gm}/{}", other.id)).token(&other_token))
            .await
            .status
            .as_u16(),
        204
    );
}

#[tokio::test]
async fn application_settings() {
    let app = TestApp::new().await;
    let (_, token) = app.user_with_token("normal").await;
    assert_eq!(
        expect(&app, get("/api/v4/application/settings").token(&token), 403).await,
        msg("403 Forbidden")
    );
    let s = expect(
        &app,
        get("/api/v4/application/settings").token(ROOT_TOKEN),
        200,
    )
    .await;
    assert_eq!(s["enforce_ci_inbound_job_token_scope_enabled"], false);
    let s = expect(
        &app,
        put("/api/v4/application/settings")
            .token(ROOT_TOKEN)
            .form("enforce_ci_inbound_job_token_scope_enabled=true"),
        200,
    )
    .await;
    assert_eq!(s["enforce_ci_inbound_job_token_scope_enabled"], true);
    assert_eq!(
        expect(
            &app,
            put("/api/v4/application/settings")
                .token(ROOT_TOKEN)
                .json(json!({"enforce_ci_inbound_job_token_scope_enabled": null})),
            400
        )
        .await,
        json!({"message": {"enforce_ci_inbound_job_token_scope_enabled": ["must be a boolean value"]}})
    );
    let res = expect(
        &app,
        put("/api/v4/application/settings")
            .token(ROOT_TOKEN)
            .json(json!({"unknown": 1})),
        400,
    )
    .await;
    assert!(
        res["error"]
            .as_str()
            .unwrap()
            .ends_with("are missing, at least one parameter must be provided")
    );
    let s = expect(
        &app,
        get("/api/v4/application/settings").token(ROOT_TOKEN),
        200,
    )
    .await;
    assert_eq!(s["enforce_ci_inbound_job_token_scope_enabled"], true);
}

#[tokio::test]
async fn version_and_sudo() {
    let app = TestApp::new().await;
    let v = expect(&app, get("/api/v4/version").token(ROOT_TOKEN), 200).await;
    assert!(v["version"].is_string() && v["revision"].is_string());
    let (u, token) = app.user_with_token("target").await;
    // Sudo needs an admin with a sudo-scoped token (root's bootstrap token has it).
    let me = expect(
        &app,
        get("/api/v4/user")
            .token(ROOT_TOKEN)
            .header("sudo", "target"),
        200,
    )
    .await;
    assert_eq!(me["id"], json!(u.id));
    let me = expect(
        &app,
        get(format!("/api/v4/user?sudo={}", u.id)).token(ROOT_TOKEN),
        200,
    )
    .await;
    assert_eq!(me["username"], "target");
    assert_eq!(
        expect(
            &app,
            get("/api/v4/user").token(&token).header("sudo", "root"),
            403
        )
        .await,
        msg("403 Forbidden - Must be admin to use sudo")
    );
    assert_eq!(
        expect(
            &app,
            get("/api/v4/user")
                .token(ROOT_TOKEN)
                .header("sudo", "ghost"),
            404
        )
        .await,
        msg("404 User with ID or username 'ghost' Not Found")
    );
    let root = app.store.user_by_username("root").await.unwrap().unwrap();
    let (no_sudo, _) = app.token_with(root.id, &["api"], None, false).await;
    let res = expect(
        &app,
        get("/api/v4/user").token(&no_sudo).header("sudo", "target"),
        403,
    )
    .await;
    assert_eq!(res["error"], "insufficient_scope");
}

#[tokio::test]
async fn token_use_is_written_off_the_request_path_and_shown_at_once() {
    let app = TestApp::new().await;
    let (user, pat) = app.user_with_token("walker").await;
    let stored = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            let page = store
                .list_personal_access_tokens(
                    &jobscope_store::TokenQuery {
                        user_id: Some(user.id),
                        ..Default::default()
                    },
                    jobscope_store::PageRequest::new(1, 20),
                )
                .await
                .unwrap();
            page.items[0].last_used_at
        }
    };
    assert_eq!(stored(&app).await, None);
    // The request shows the time it recorded...
    let me = expect(
        &app,
        get("/api/v4/personal_access_tokens/self").token(&pat),
        200,
    )
    .await;
    assert!(me["last_used_at"].is_string(), "{me}");
    expect(&app, get("/api/v4/user").token(&pat), 200).await;
    // ...but the database has not been written by the requests themselves.
    assert_eq!(stored(&app).await, None);
    // Reading tokens writes what this process recorded first.
    let list = expect(&app, get("/api/v4/personal_access_tokens").token(&pat), 200).await;
    assert!(list[0]["last_used_at"].is_string(), "{list}");
    assert!(stored(&app).await.is_some());
}
