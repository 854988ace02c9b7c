//! Instance settings (`/application/settings`), administrators only.

use jobscope_store::{InstanceSettings, InstanceSettingsPatch};

use crate::access;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn show(state: &AppState, caller: &Caller) -> ApiResult<InstanceSettings> {
    access::require_admin(caller)?;
    Ok(state.store.instance_settings().await?)
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    patch: InstanceSettingsPatch,
) -> ApiResult<InstanceSettings> {
    access::require_admin(caller)?;
    Ok(state
        .store
        .update_instance_settings(patch, super::now())
        .await?)
}
