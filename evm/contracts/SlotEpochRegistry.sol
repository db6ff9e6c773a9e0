// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.19;

/// @title zkmargin slot-table epoch registry
/// @notice Accepts each slot-table epoch's statement (account table v2: shard classes by entry
/// count over a public instrument table) once its aggregated proof verifies, in order, chained
/// by the statement digest, under one pinned verifier, config digest and instrument rules.
/// @dev Calldata does not grow with the instrument table. The submitter passes the statement's
/// values as `zkmargin_layout::slots::public::slot_statement_values` has them (header, one
/// median per asset, the instrument totals' amounts, the totals); the registry rebuilds the
/// instrument table from the pinned rules (`instrument_rules`: every table word is a rule or a
/// median times one) and the totals' labels from the same rules, compresses the shards'
/// combined values with `r` = digest mod R, and the aggregation verifier checks the proof
/// against exactly that. The rules live in data contracts (runtime code `0x00 ‖ words`, read
/// with EXTCODECOPY), checked once here against their pinned Keccak-256.
///
/// Proved: the instrument table (so the medians every account was margined at), every
/// instrument total and total. Not proved on-chain: the oracle hash (the quotes' verdicts; the
/// off-chain verifier re-runs the oracle), the header (chained and checked here, as a claim)
/// and the declared reserves (they only enter the digest).
contract SlotEpochRegistry {
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant HALF = (R - 1) / 2;
    bytes32 public constant STATEMENT_DOMAIN = keccak256("zkmargin/statement/v2");
    bytes32 public constant SLOT_DOMAIN = keccak256("zkmargin/slot-statement/v2");
    /// Words before the medians: epoch, timestamp, prev digest (2 halves), config digest (2
    /// halves), insurance fund.
    uint256 internal constant HEADER = 7;
    /// Accumulator limbs at the start of `proof`.
    uint256 public constant PROOF_PREFIX_WORDS = 12;

    address public immutable VERIFIER;
    bytes32 public immutable CONFIG_DIGEST;
    /// Keccak-256 of the rules' words (32-byte big-endian each).
    bytes32 public immutable RULES_HASH;
    uint256 public immutable RULES_WORDS;
    uint256 public immutable ASSETS;
    /// Cases: the base case and every stress scenario.
    uint256 public immutable CASES;
    /// Instrument totals: one per collateral asset, two per market.
    uint256 public immutable INSTRUMENT_TOTALS;
    uint256 public immutable VALUE_WORDS;
    uint256 public immutable DECLARED_WORDS;
    /// The data contracts holding the rules, in order.
    address[] internal rulesChunks;

    struct EpochRecord {
        bytes32 digest;
        bytes32 oracleHash;
        uint256 timestamp;
        int256 totalEquity;
        int256 totalMaintenance;
        uint256 underMargined;
        int256 totalShortfall;
        int256 badDebt;
        /// Largest bad debt over the stress scenarios (0 without scenarios).
        int256 worstStressBadDebt;
        int256 insuranceFund;
    }

    uint256 public nextEpoch;
    bytes32 public lastDigest;
    uint256 public accepted;
    mapping(uint256 => EpochRecord) internal records;

    event EpochSubmitted(
        uint256 indexed epoch,
        bytes32 digest,
        bytes32 oracleHash,
        uint256 underMargined,
        int256 badDebt,
        int256 worstStressBadDebt,
        int256 insuranceFund
    );

    error BadLength(string what);
    error NonCanonicalWord(uint256 index);
    error MedianOver64Bits(uint256 asset);
    error EpochOutOfOrder(uint256 expected, uint256 got);
    error DoesNotChain(bytes32 expected, bytes32 got);
    error ForeignConfig(bytes32 got);
    error ProofRejected();

    /// Constructor parameters (`registry.json` from `zkmargin aggregate` on a slot bundle).
    struct Params {
        bytes32 configDigest;
        bytes32 rulesHash;
        uint256 rulesWords;
        uint256 declaredWords;
        uint256 firstEpoch;
        bytes32 genesisDigest;
    }

    constructor(address verifier, Params memory p, address[] memory chunks) {
        require(verifier.code.length > 0, "verifier has no code");
        rulesChunks = chunks;
        uint256[] memory w = loadRules(chunks, p.rulesWords);
        require(keccak256(abi.encodePacked(w)) == p.rulesHash, "rules are not the pinned ones");
        // Walk the rules once: their layout must hold together.
        uint256 cases = w[1];
        uint256 k = w[3];
        uint256 i = 4 + k * (1 + cases);
        uint256 markets = w[i];
        i++;
        for (uint256 m = 0; m < markets; m++) {
            require(w[i] < w[0], "underlying out of range");
            requireWeights(w, i + 1, cases, 1);
            i += 1 + cases;
            uint256 tiers = w[i];
            require(tiers > 0, "a market without tiers");
            requireWeights(w, i + 1, tiers, 3);
            i += 1 + 3 * tiers;
        }
        require(i == p.rulesWords, "rules layout");
        for (uint256 c = 0; c < k; c++) {
            require(w[4 + c * (1 + cases)] < w[0], "collateral asset out of range");
            requireWeights(w, 5 + c * (1 + cases), cases, 1);
        }
        VERIFIER = verifier;
        CONFIG_DIGEST = p.configDigest;
        RULES_HASH = p.rulesHash;
        RULES_WORDS = p.rulesWords;
        ASSETS = w[0];
        CASES = cases;
        INSTRUMENT_TOTALS = k + 2 * markets;
        VALUE_WORDS = HEADER + w[0] + k + 2 * markets + cases + 4;
        DECLARED_WORDS = p.declaredWords;
        nextEpoch = p.firstEpoch;
        lastDigest = p.genesisDigest;
    }

    /// Words `w[from + stride·n]`, `n < count`, are weights a median multiplies: below 2^64.
    function requireWeights(
        uint256[] memory w,
        uint256 from,
        uint256 count,
        uint256 stride
    ) internal pure {
        for (uint256 n = 0; n < count; n++) {
            require(w[from + stride * n] >> 64 == 0, "a weight over 64 bits");
        }
    }

    /// @notice Verifies and records the next epoch.
    /// @param oracleHash Keccak-256 of the oracle verdict's JSON (as the digest has it)
    /// @param values the statement's values (`slot_statement_values`)
    /// @param declared per asset: a presence word and the declared reserves
    /// @param proof the accumulator's 12 limbs, then the aggregated proof's bytes
    function submitEpoch(
        bytes32 oracleHash,
        uint256[] calldata values,
        uint256[] calldata declared,
        bytes calldata proof
    ) external returns (bytes32 digest) {
        if (values.length != VALUE_WORDS) revert BadLength("values");
        if (declared.length != DECLARED_WORDS) revert BadLength("declared");
        if (proof.length < 32 * PROOF_PREFIX_WORDS) revert BadLength("proof");
        checkHeader(values);
        digest = keccak256(
            abi.encodePacked(STATEMENT_DOMAIN, SLOT_DOMAIN, oracleHash, values, declared)
        );
        verify(values, proof, digest);
        store(values, digest, oracleHash);
    }

    /// Canonical words, medians of at most 64 bits, and the header chained to the last epoch
    /// under the pinned config.
    function checkHeader(uint256[] calldata values) internal view {
        for (uint256 i = 0; i < values.length; i++) {
            if (values[i] >= R) revert NonCanonicalWord(i);
        }
        for (uint256 a = 0; a < ASSETS; a++) {
            if (values[HEADER + a] >> 64 != 0) revert MedianOver64Bits(a);
        }
        if (values[0] != nextEpoch) revert EpochOutOfOrder(nextEpoch, values[0]);
        bytes32 prev = joinHalves(values[2], values[3]);
        if (prev != lastDigest) revert DoesNotChain(lastDigest, prev);
        bytes32 config = joinHalves(values[4], values[5]);
        if (config != CONFIG_DIGEST) revert ForeignConfig(config);
    }

    /// The aggregation verifier on the accumulator, `r` = digest mod R, `c` = [`compress`].
    function verify(uint256[] calldata values, bytes calldata proof, bytes32 digest) internal view {
        uint256 r = uint256(digest) % R;
        uint256 c = compress(values, r);
        uint256 acc = 32 * PROOF_PREFIX_WORDS;
        (bool ok, ) = VERIFIER.staticcall(abi.encodePacked(proof[:acc], r, c, proof[acc:]));
        if (!ok) revert ProofRejected();
    }

    function store(uint256[] calldata values, bytes32 digest, bytes32 oracleHash) internal {
        EpochRecord storage rec = records[values[0]];
        rec.digest = digest;
        rec.oracleHash = oracleHash;
        storeTotals(rec, values);
        lastDigest = digest;
        nextEpoch = values[0] + 1;
        accepted += 1;
        emit EpochSubmitted(
            values[0],
            digest,
            oracleHash,
            rec.underMargined,
            rec.badDebt,
            rec.worstStressBadDebt,
            rec.insuranceFund
        );
    }

    /// @notice The last accepted epoch's number and record (reverts before the first one).
    function latestEpoch() external view returns (uint256 epoch, EpochRecord memory record) {
        require(accepted > 0, "no epoch yet");
        epoch = nextEpoch - 1;
        record = records[epoch];
    }

    /// @notice The record of `epoch` (all zero if it was never accepted).
    function epochRecord(uint256 epoch) external view returns (EpochRecord memory) {
        return records[epoch];
    }

    /// @notice The data contracts holding the rules.
    function rules() external view returns (address[] memory) {
        return rulesChunks;
    }

    /// `c = Σ s_i·r^(n−1−i)` (Horner) over the shards' combined values `s`: the instrument
    /// table rebuilt from the rules and the medians, the instrument totals `(inst, side,
    /// amount)`, the totals — the words the aggregation root compresses. The loops are
    /// assembly (a few dozen gas per word): the constructor checked the rules' layout, every
    /// asset index in them and every weight below 2^64, and `submitEpoch` the values' length
    /// and every median below 2^64, so no read leaves its array and no product `P·W` wraps.
    function compress(uint256[] calldata values, uint256 r) internal view returns (uint256 c) {
        uint256[] memory w = loadRules(rulesChunks, RULES_WORDS);
        uint256 cases = CASES;
        uint256 med; // calldata offset of the first median
        uint256 ptr; // memory pointer into the rules
        assembly {
            med := add(values.offset, 224)
            ptr := add(w, 160) // w[4]: the first collateral asset
        }
        // Collateral rows: a, 0, P_a·W[j][a]…, then seven zeros.
        for (uint256 n = 0; n < w[3]; n++) {
            assembly {
                let a := mload(ptr)
                let p := calldataload(add(med, mul(a, 32)))
                c := mulmod(addmod(mulmod(c, r, R), a, R), r, R)
                for { let j := 1 } iszero(gt(j, cases)) { j := add(j, 1) } {
                    c := addmod(mulmod(c, r, R), mul(p, mload(add(ptr, mul(j, 32)))), R)
                }
                for { let z := 0 } lt(z, 7) { z := add(z, 1) } { c := mulmod(c, r, R) }
                ptr := add(ptr, mul(add(cases, 1), 32))
            }
        }
        uint256 markets;
        assembly {
            markets := mload(ptr)
            ptr := add(ptr, 32)
        }
        for (uint256 m = 0; m < markets; m++) {
            (c, ptr) = marketRows(ptr, med, ASSETS + m, w[2], r, c);
        }
        c = totalsPart(w, values, markets, r, c);
    }

    /// The tier rows of the market whose rules start at memory `ptr` (id `inst`, `C` =
    /// `quote`): `inst, t, P_u·V[j][m]…, C, P_u, P_u·R_t, A_t, lo_t, hi_t, 1` per tier `t`,
    /// `lo_0 = 0`, `lo_t = hi_(t−1) + 1`. Returns `c` and the next market's rules.
    function marketRows(
        uint256 ptr,
        uint256 med,
        uint256 inst,
        uint256 quote,
        uint256 r,
        uint256 c
    ) internal view returns (uint256, uint256) {
        uint256 cases = CASES;
        assembly {
            let p := calldataload(add(med, mul(mload(ptr), 32)))
            let weights := add(ptr, 32)
            let tier := add(weights, mul(cases, 32))
            let end := add(add(tier, 32), mul(mload(tier), 96))
            tier := add(tier, 32)
            let lo := 0
            for { let t := 0 } lt(tier, end) { t := add(t, 1) } {
                c := addmod(mulmod(c, r, R), inst, R)
                c := addmod(mulmod(c, r, R), t, R)
                for { let j := 0 } lt(j, cases) { j := add(j, 1) } {
                    c := addmod(mulmod(c, r, R), mul(p, mload(add(weights, mul(j, 32)))), R)
                }
                c := addmod(mulmod(c, r, R), quote, R)
                c := addmod(mulmod(c, r, R), p, R)
                c := addmod(mulmod(c, r, R), mul(p, mload(tier)), R)
                c := addmod(mulmod(c, r, R), mload(add(tier, 32)), R)
                c := addmod(mulmod(c, r, R), lo, R)
                lo := mload(add(tier, 64))
                c := addmod(mulmod(c, r, R), lo, R)
                c := addmod(mulmod(c, r, R), 1, R)
                lo := add(lo, 1)
                tier := add(tier, 96)
            }
            ptr := end
        }
        return (c, ptr);
    }

    /// The instrument totals — `(a, 0, liabilities)` per collateral asset, then `(A + m, 0,
    /// long)` and `(A + m, 1, short)` per market — then the totals, into `c`.
    function totalsPart(
        uint256[] memory w,
        uint256[] calldata values,
        uint256 markets,
        uint256 r,
        uint256 c
    ) internal view returns (uint256) {
        uint256 stride = 32 * (1 + CASES);
        uint256 assets = ASSETS;
        assembly {
            let at := add(values.offset, mul(add(7, assets), 32))
            let asset := add(w, 160)
            for { let n := 0 } lt(n, mload(add(w, 128))) { n := add(n, 1) } {
                c := mulmod(addmod(mulmod(c, r, R), mload(asset), R), r, R)
                c := addmod(mulmod(c, r, R), calldataload(at), R)
                at := add(at, 32)
                asset := add(asset, stride)
            }
            for { let m := 0 } lt(m, markets) { m := add(m, 1) } {
                let inst := add(assets, m)
                c := mulmod(addmod(mulmod(c, r, R), inst, R), r, R)
                c := addmod(mulmod(c, r, R), calldataload(at), R)
                c := addmod(mulmod(addmod(mulmod(c, r, R), inst, R), r, R), 1, R)
                c := addmod(mulmod(c, r, R), calldataload(add(at, 32)), R)
                at := add(at, 64)
            }
            let end := add(values.offset, mul(values.length, 32))
            for { } lt(at, end) { at := add(at, 32) } {
                c := addmod(mulmod(c, r, R), calldataload(at), R)
            }
        }
        return c;
    }

    /// The rules' `count` words from the data contracts (each `0x00 ‖ words`).
    function loadRules(
        address[] memory chunks,
        uint256 count
    ) internal view returns (uint256[] memory w) {
        w = new uint256[](count);
        uint256 filled = 0;
        for (uint256 n = 0; n < chunks.length; n++) {
            address chunk = chunks[n];
            uint256 bytesLen = chunk.code.length;
            require(bytesLen > 0 && (bytesLen - 1) % 32 == 0, "not a rules chunk");
            uint256 words = (bytesLen - 1) / 32;
            require(filled + words <= count, "rules longer than pinned");
            assembly {
                extcodecopy(chunk, add(add(w, 32), mul(filled, 32)), 1, mul(words, 32))
            }
            filled += words;
        }
        require(filled == count, "rules shorter than pinned");
    }

    function storeTotals(EpochRecord storage rec, uint256[] calldata v) internal {
        uint256 t = HEADER + ASSETS + INSTRUMENT_TOTALS;
        rec.timestamp = v[1];
        rec.insuranceFund = signedOf(v[6]);
        rec.totalEquity = signedOf(v[t]);
        rec.totalMaintenance = signedOf(v[t + 1]);
        rec.underMargined = v[t + 2];
        rec.totalShortfall = signedOf(v[t + 3]);
        rec.badDebt = signedOf(v[t + 4]);
        int256 worst = 0;
        for (uint256 j = t + 5; j < v.length; j++) {
            int256 b = signedOf(v[j]);
            if (b > worst) worst = b;
        }
        rec.worstStressBadDebt = worst;
    }

    /// A field element as a signed integer: `x` for `x ≤ (R−1)/2`, else `x − R`.
    function signedOf(uint256 x) internal pure returns (int256) {
        return x <= HALF ? int256(x) : -int256(R - x);
    }

    /// A digest carried as two 128-bit halves (high first).
    function joinHalves(uint256 hi, uint256 lo) internal pure returns (bytes32) {
        require(hi >> 128 == 0 && lo >> 128 == 0, "digest half over 128 bits");
        return bytes32((hi << 128) | lo);
    }
}
