//! An in-memory EVM (revm, mainnet rules) to deploy and call contracts and read their gas.

use alloy_primitives::Address;
use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::database::InMemoryDB;
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::TxKind;
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};

/// Gas limit of every transaction (a mainnet block's).
pub const TX_GAS_LIMIT: u64 = 30_000_000;

#[derive(Debug, thiserror::Error)]
/// Why a transaction did not succeed.
pub enum ChainError {
    #[error("reverted after {gas} gas: 0x{}", hex::encode(output))]
    /// The call reverted.
    Reverted {
        /// Gas used.
        gas: u64,
        /// The revert data (an ABI-encoded error).
        output: Vec<u8>,
    },
    #[error("halted after {gas} gas: {reason}")]
    /// The EVM halted (out of gas, invalid opcode, code too large).
    Halted {
        /// Gas used.
        gas: u64,
        /// revm's reason.
        reason: String,
    },
    #[error("the EVM refused the transaction: {0}")]
    /// The transaction was not valid (nonce, balance, gas limit).
    Invalid(String),
}

/// A deployed contract.
#[derive(Debug, Clone, Copy)]
pub struct Deployed {
    /// Where it lives.
    pub address: Address,
    /// Gas of the deployment transaction.
    pub gas: u64,
    /// Runtime code size (EIP-170 limits it to 24,576 bytes on mainnet).
    pub runtime_bytes: usize,
}

/// A successful call.
#[derive(Debug, Clone)]
pub struct CallResult {
    /// Gas of the whole transaction (21,000 base and calldata included).
    pub gas: u64,
    /// The returned data.
    pub output: Vec<u8>,
}

/// An in-memory EVM with mainnet rules (EIP-170 on, unless lifted) and one funded sender.
pub struct LocalChain {
    evm: MainnetEvm<MainnetContext<InMemoryDB>>,
    nonce: u64,
}

impl LocalChain {
    /// A chain under mainnet rules (EIP-170 and EIP-3860 code size limits enforced).
    pub fn mainnet() -> Self {
        Self::with_code_limits(true)
    }

    /// `enforce = false` lifts the code size limits (as some L2s and test chains do), to
    /// measure a verifier too large for mainnet.
    pub fn with_code_limits(enforce: bool) -> Self {
        let evm = Context::mainnet()
            .with_db(InMemoryDB::default())
            .modify_cfg_chained(|cfg| {
                if !enforce {
                    cfg.limit_contract_code_size = Some(usize::MAX);
                    cfg.limit_contract_initcode_size = Some(usize::MAX);
                }
            })
            .build_mainnet();
        LocalChain { evm, nonce: 0 }
    }

    fn transact(&mut self, kind: TxKind, data: Vec<u8>) -> Result<(u64, Output), ChainError> {
        let tx = TxEnv {
            gas_limit: TX_GAS_LIMIT,
            kind,
            data: data.into(),
            nonce: self.nonce,
            ..Default::default()
        };
        let result = self
            .evm
            .transact_commit(tx)
            .map_err(|e| ChainError::Invalid(format!("{e:?}")))?;
        self.nonce += 1;
        match result {
            ExecutionResult::Success {
                gas_used, output, ..
            } => Ok((gas_used, output)),
            ExecutionResult::Revert { gas_used, output } => Err(ChainError::Reverted {
                gas: gas_used,
                output: output.to_vec(),
            }),
            ExecutionResult::Halt { reason, gas_used } => Err(ChainError::Halted {
                gas: gas_used,
                reason: format!("{reason:?}"),
            }),
        }
    }

    /// Deploys `creation_code` (constructor arguments appended).
    pub fn deploy(&mut self, creation_code: Vec<u8>) -> Result<Deployed, ChainError> {
        match self.transact(TxKind::Create, creation_code)? {
            (gas, Output::Create(runtime, Some(address))) => Ok(Deployed {
                address,
                gas,
                runtime_bytes: runtime.len(),
            }),
            (gas, _) => Err(ChainError::Halted {
                gas,
                reason: "creation returned no address".into(),
            }),
        }
    }

    /// Calls `to` with `data` in a committed transaction.
    pub fn call(&mut self, to: Address, data: Vec<u8>) -> Result<CallResult, ChainError> {
        let (gas, output) = self.transact(TxKind::Call(to), data)?;
        Ok(CallResult {
            gas,
            output: output.into_data().to_vec(),
        })
    }
}
