// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.19;

/// @title zkmargin epoch registry
/// @notice Accepts each epoch's margin statement once its proof verifies, in order, chained to
/// the previous epoch by the statement digest, under one pinned verifier and venue config.
/// @dev The statement is the proof's public instances (see `circuits/src/encoding.rs`): the
/// verifier contract checks the proof against exactly these words, so everything stored here
/// is proved, except the declared values (reserves), which only enter the digest.
///
/// Verifier calldata (snark-verifier): instances, then the proof. A direct epoch proof (an
/// epoch of one shard) has the statement, then the table's first and last account id as its
/// instances; an aggregated proof has the accumulator's limbs, then the compressed statement.
/// Either way the submitter passes the extra words (`PROOF_PREFIX_WORDS`: the id range or the
/// accumulator limbs) at the start of `proof`.
contract EpochRegistry {
    /// BN254 scalar field modulus: instances are field elements; the verifier reduces words
    /// modulo it, so the registry refuses non-canonical words (they would change the digest
    /// without changing what was proved).
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant HALF = (R - 1) / 2;
    bytes32 public constant STATEMENT_DOMAIN = keccak256("zkmargin/statement/v2");

    address public immutable VERIFIER;
    /// Words at the start of `proof` before the SNARK's bytes.
    uint256 public immutable PROOF_PREFIX_WORDS;
    /// Whether the verifier checks an aggregation proof (prefix: accumulator limbs) rather
    /// than a direct one (prefix: the id range).
    bool public immutable AGGREGATED;
    /// Leading commitments of a direct proof that commit to the account table (0: not stored).
    uint256 public immutable TABLE_COLUMNS;
    uint256 public immutable STATEMENT_WORDS;
    uint256 public immutable DECLARED_WORDS;
    /// Position of the insurance fund (the last public input) in the statement.
    uint256 public immutable INSURANCE_INDEX;
    uint256 public immutable SCENARIOS;
    bytes32 public immutable CONFIG_DIGEST;
    /// The venue's rules as the circuit takes them: Keccak-256 of the statement words that
    /// depend on the config alone (limits and fine weights; positions in CONFIG_MASK_0..3, bit
    /// i of mask j = word 256·j + i). The circuit does not bind them to the config digest, so
    /// the registry pins them.
    bytes32 public immutable CONFIG_WORDS;
    uint256 public immutable CONFIG_WORD_COUNT;
    uint256 internal immutable CONFIG_MASK_0;
    uint256 internal immutable CONFIG_MASK_1;
    uint256 internal immutable CONFIG_MASK_2;
    uint256 internal immutable CONFIG_MASK_3;

    struct EpochRecord {
        bytes32 digest;
        bytes32 tableCommitment;
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

    /// The epoch the next submission must carry.
    uint256 public nextEpoch;
    /// Digest of the last accepted statement (the genesis digest before the first one).
    bytes32 public lastDigest;
    /// Number of accepted epochs.
    uint256 public accepted;
    mapping(uint256 => EpochRecord) internal records;

    event EpochSubmitted(
        uint256 indexed epoch,
        bytes32 digest,
        bytes32 tableCommitment,
        uint256 underMargined,
        int256 badDebt,
        int256 worstStressBadDebt,
        int256 insuranceFund
    );

    error BadLength(string what);
    error NonCanonicalWord(uint256 index);
    error EpochOutOfOrder(uint256 expected, uint256 got);
    error DoesNotChain(bytes32 expected, bytes32 got);
    error ForeignConfig(bytes32 got);
    error ForeignRules(bytes32 got);
    error ProofRejected();

    /// Constructor parameters (`registry.json` from `zkmargin export-verifier`/`aggregate`).
    struct Params {
        uint256 proofPrefixWords;
        bool aggregated;
        uint256 tableColumns;
        uint256 statementWords;
        uint256 declaredWords;
        uint256 insuranceIndex;
        uint256 scenarios;
        bytes32 configDigest;
        uint256[4] configMask;
        bytes32 configWords;
        uint256 firstEpoch;
        bytes32 genesisDigest;
    }

    constructor(address verifier, Params memory p) {
        require(verifier.code.length > 0, "verifier has no code");
        require(
            p.insuranceIndex < p.statementWords && p.scenarios + 5 <= p.statementWords,
            "layout"
        );
        require(p.statementWords <= 1024, "statement over 1024 words");
        VERIFIER = verifier;
        PROOF_PREFIX_WORDS = p.proofPrefixWords;
        AGGREGATED = p.aggregated;
        TABLE_COLUMNS = p.tableColumns;
        STATEMENT_WORDS = p.statementWords;
        DECLARED_WORDS = p.declaredWords;
        INSURANCE_INDEX = p.insuranceIndex;
        SCENARIOS = p.scenarios;
        CONFIG_DIGEST = p.configDigest;
        uint256 count = 0;
        for (uint256 i = 0; i < p.statementWords; i++) {
            if ((p.configMask[i / 256] >> (i % 256)) & 1 == 1) count++;
        }
        CONFIG_WORDS = p.configWords;
        CONFIG_WORD_COUNT = count;
        CONFIG_MASK_0 = p.configMask[0];
        CONFIG_MASK_1 = p.configMask[1];
        CONFIG_MASK_2 = p.configMask[2];
        CONFIG_MASK_3 = p.configMask[3];
        nextEpoch = p.firstEpoch;
        lastDigest = p.genesisDigest;
    }

    /// @notice Verifies and records the next epoch.
    /// @param statement the public instances, in circuit order
    /// @param declared per asset: a presence word and the declared reserves
    /// @param proof the accumulator limbs (aggregated proofs only), then the proof bytes
    function submitEpoch(
        uint256[] calldata statement,
        uint256[] calldata declared,
        bytes calldata proof
    ) external returns (bytes32 digest) {
        if (statement.length != STATEMENT_WORDS) revert BadLength("statement");
        if (declared.length != DECLARED_WORDS) revert BadLength("declared");
        if (proof.length < 32 * PROOF_PREFIX_WORDS + 64 * TABLE_COLUMNS) revert BadLength("proof");
        for (uint256 i = 0; i < statement.length; i++) {
            if (statement[i] >= R) revert NonCanonicalWord(i);
        }
        if (statement[0] != nextEpoch) revert EpochOutOfOrder(nextEpoch, statement[0]);
        bytes32 prev = joinHalves(statement[2], statement[3]);
        if (prev != lastDigest) revert DoesNotChain(lastDigest, prev);
        bytes32 config = joinHalves(statement[4], statement[5]);
        if (config != CONFIG_DIGEST) revert ForeignConfig(config);
        bytes32 rules = configWordsOf(statement);
        if (rules != CONFIG_WORDS) revert ForeignRules(rules);

        uint256 acc = 32 * PROOF_PREFIX_WORDS;
        digest = keccak256(abi.encodePacked(STATEMENT_DOMAIN, statement, declared));
        (bool ok, ) = VERIFIER.staticcall(verifierInput(statement, proof, digest));
        if (!ok) revert ProofRejected();

        bytes32 table = TABLE_COLUMNS == 0
            ? bytes32(0)
            : keccak256(proof[acc:acc + 64 * TABLE_COLUMNS]);
        EpochRecord storage r = records[statement[0]];
        r.digest = digest;
        r.tableCommitment = table;
        storeTotals(r, statement);
        lastDigest = digest;
        nextEpoch = statement[0] + 1;
        accepted += 1;
        emit EpochSubmitted(
            statement[0],
            digest,
            table,
            r.underMargined,
            r.badDebt,
            r.worstStressBadDebt,
            r.insuranceFund
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

    /// The verifier's calldata. Direct proofs: the statement, then the proof. Aggregated
    /// proofs expose the statement compressed: the accumulator limbs, `r` = digest mod R, and
    /// `c = Σ statement[i]·r^(n−1−i)` (Horner), then the proof; a different statement with the
    /// same `c` needs its own digest to be a root of a fixed nonzero polynomial of degree < n.
    function verifierInput(
        uint256[] calldata statement,
        bytes calldata proof,
        bytes32 digest
    ) internal view returns (bytes memory) {
        if (!AGGREGATED) return abi.encodePacked(statement, proof);
        uint256 acc = 32 * PROOF_PREFIX_WORDS;
        uint256 r = uint256(digest) % R;
        uint256 c = 0;
        for (uint256 i = 0; i < statement.length; i++) {
            c = addmod(mulmod(c, r, R), statement[i], R);
        }
        return abi.encodePacked(proof[:acc], r, c, proof[acc:]);
    }

    /// Keccak-256 of the statement words the config masks select, in order.
    function configWordsOf(uint256[] calldata statement) internal view returns (bytes32) {
        uint256[4] memory masks = [CONFIG_MASK_0, CONFIG_MASK_1, CONFIG_MASK_2, CONFIG_MASK_3];
        uint256[] memory words = new uint256[](CONFIG_WORD_COUNT);
        uint256 k = 0;
        for (uint256 i = 0; i < statement.length; i++) {
            if ((masks[i / 256] >> (i % 256)) & 1 == 1) {
                words[k] = statement[i];
                k++;
            }
        }
        return keccak256(abi.encodePacked(words));
    }

    function storeTotals(EpochRecord storage r, uint256[] calldata s) internal {
        uint256 n = s.length;
        uint256 baseCase = n - SCENARIOS - 1;
        r.timestamp = s[1];
        r.totalEquity = signedOf(s[baseCase - 4]);
        r.totalMaintenance = signedOf(s[baseCase - 3]);
        r.underMargined = s[baseCase - 2];
        r.totalShortfall = signedOf(s[baseCase - 1]);
        r.badDebt = signedOf(s[baseCase]);
        int256 worst = 0;
        for (uint256 j = baseCase + 1; j < n; j++) {
            int256 b = signedOf(s[j]);
            if (b > worst) worst = b;
        }
        r.worstStressBadDebt = worst;
        r.insuranceFund = signedOf(s[INSURANCE_INDEX]);
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
