//! First start: the administrator `root` and its token.

use anyhow::bail;
use jobscope_store::{NewPersonalAccessToken, NewUser};

use crate::auth::tokens::{PAT_PREFIX, has_shape, new_personal_access_token};
use crate::state::AppState;

/// Scopes of root's bootstrap token: everything an administrator's automation needs.
pub const ROOT_TOKEN_SCOPES: &[&str] = &["api", "read_api", "read_user", "sudo", "admin_mode"];

/// `JOBSCOPE_ROOT_TOKEN` must look like a GitLab personal access token.
pub fn check_root_token(token: &str) -> anyhow::Result<()> {
    if !token.starts_with(PAT_PREFIX) {
        bail!("JOBSCOPE_ROOT_TOKEN must start with {PAT_PREFIX}");
    }
    // The server refuses, unread, any token of another shape: such a root token could never
    // authenticate.
    if !has_shape(token, PAT_PREFIX) {
        bail!(
            "JOBSCOPE_ROOT_TOKEN must be {PAT_PREFIX} followed by 8 to 255 letters, digits, '_' or \
             '-' (or be a GitLab routable token, with '.' and a valid checksum)"
        );
    }
    Ok(())
}

/// Creates `root` on an empty instance and gives it a token: `preset` if given, else a new
/// random one, which is returned so the caller can show it once. On an instance that has
/// users already, a `preset` token root does not have yet is added to root.
pub async fn ensure_root(state: &AppState, preset: Option<&str>) -> anyhow::Result<Option<String>> {
    let store = &state.store;
    let now = crate::service::now();
    let token_for = |user_id, plaintext: &str| NewPersonalAccessToken {
        user_id,
        name: "jobscope-root".to_owned(),
        description: Some("Created by jobscope on first start".to_owned()),
        scopes: ROOT_TOKEN_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        expires_at: None,
        token_digest: state.tokens.digest(plaintext),
        created_at: now,
    };
    if store.count_users().await? == 0 {
        let created = store
            .create_user(NewUser {
                username: "root".to_owned(),
                email: "admin@example.com".to_owned(),
                name: "Administrator".to_owned(),
                admin: true,
                external: false,
                bot: false,
                can_create_group: true,
                projects_limit: 100_000,
                created_at: now,
            })
            .await;
        let root = match created {
            Ok(root) => root,
            // Another server sharing the database created root first.
            Err(jobscope_store::StoreError::Conflict(_)) => {
                return add_preset(state, preset, token_for).await.map(|()| None);
            }
            Err(e) => return Err(e.into()),
        };
        let plaintext = preset
            .map(str::to_owned)
            .unwrap_or_else(|| new_personal_access_token(root.id));
        store
            .create_personal_access_token(token_for(root.id, &plaintext))
            .await?;
        tracing::info!(user_id = root.id.get(), "created the administrator root");
        return Ok(preset.is_none().then_some(plaintext));
    }
    add_preset(state, preset, token_for).await?;
    Ok(None)
}

/// On an instance that has root already, makes sure a preset token belongs to it.
async fn add_preset(
    state: &AppState,
    preset: Option<&str>,
    token_for: impl Fn(jobscope_types::UserId, &str) -> NewPersonalAccessToken,
) -> anyhow::Result<()> {
    let store = &state.store;
    let Some(preset) = preset else {
        return Ok(());
    };
    if store
        .personal_access_token_by_digest(&state.tokens.digest(preset))
        .await?
        .is_some()
    {
        return Ok(());
    }
    let Some(root) = store.user_by_username("root").await? else {
        bail!("JOBSCOPE_ROOT_TOKEN is set but this instance has no user named root");
    };
    match store
        .create_personal_access_token(token_for(root.id, preset))
        .await
    {
        // Another server added it at the same moment.
        Ok(_) | Err(jobscope_store::StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    tracing::info!("added the JOBSCOPE_ROOT_TOKEN token to root");
    Ok(())
}
