//! Running a module's message as the app runs it, for modules' unit tests over
//! [`CacheState::in_memory`]: decoded, delivered on a child overlay with
//! unlimited gas, its writes kept only if it succeeds.

use cosmos_sdk_proto::Any;

use crate::context::{BlockInfo, Context, ExecMode};
use crate::error::SdkError;
use crate::events::Event;
use crate::gas::GasMeter;
use crate::module::{Module, MsgResponse};
use crate::state::{CacheState, StateWrite};

/// Delivers `any` to `module` at `block`; on success the writes land in `state`
/// and the response and events come back.
pub fn deliver(
    state: &mut CacheState<'_>,
    module: &dyn Module,
    block: &BlockInfo,
    any: &Any,
) -> Result<(MsgResponse, Vec<Event>), SdkError> {
    let msg = module.decode_msg(any)?;
    let gas = GasMeter::infinite();
    let mut child = CacheState::new(&*state);
    let result = {
        let mut ctx = Context::new(block, ExecMode::Finalize, &mut child, &gas);
        module.deliver(&mut ctx, msg.as_ref()).map(|r| (r, ctx.take_events()))
    };
    let writes = child.into_writes();
    if result.is_ok() {
        state.apply(writes);
    }
    result
}
