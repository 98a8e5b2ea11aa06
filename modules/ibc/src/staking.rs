//! The SDK staking Params this chain serves (it has no staking module; validators are fixed
//! in genesis), because relayers read the unbonding period from them.

use cosmos_sdk_proto::cosmos::staking::v1beta1::{Params as StakingParams, QueryParamsResponse};
use paychain_framework::{QueryError, StateRead};
use prost::Message;

use crate::types::host_params;

pub const STAKING_PARAMS_PATH: &str = "/cosmos.staking.v1beta1.Query/Params";

/// The SDK staking Params relayers read: the unbonding period from genesis and a non-zero
/// history (this chain has no staking module; validators are fixed in genesis).
pub fn staking_params(state: &dyn StateRead) -> Result<Vec<u8>, QueryError> {
    let p = host_params(state).map_err(|e| QueryError::new(paychain_framework::GrpcCode::Internal, e.log))?;
    let params = StakingParams {
        unbonding_time: Some(tendermint_proto::google::protobuf::Duration {
            seconds: p.unbonding_secs as i64,
            nanos: 0,
        }),
        max_validators: 100,
        max_entries: 7,
        historical_entries: u32::try_from(p.historical_entries).unwrap_or(u32::MAX),
        bond_denom: String::new(),
        min_commission_rate: "0".to_string(),
    };
    Ok(QueryParamsResponse { params: Some(params) }.encode_to_vec())
}
