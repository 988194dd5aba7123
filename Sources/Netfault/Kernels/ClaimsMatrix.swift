/// The catalog's claims against several runs (one per kernel): a verdict and its evidence per
/// claim and kernel, and what changed between the kernels. What `netfault claims --from A B …`
/// prints, writes as JSON, and renders as one HTML page.
public struct ClaimsMatrix: Codable, Sendable, Equatable {
    /// One claim's verdict on one kernel.
    public struct Cell: Codable, Sendable, Equatable {
        /// The kernel's `uname -r`.
        public var kernel: String
        /// "confirmed", "refuted", "partly", "not reproduced", "skipped", or "not in this run".
        public var verdict: String
        /// What that run observed.
        public var evidence: String
    }

    /// One claim across the kernels.
    public struct Row: Codable, Sendable, Equatable {
        /// The catalog ID.
        public var id: String
        /// The note's claim.
        public var claim: String
        /// One per run, in the runs' order.
        public var cells: [Cell]
    }

    /// Each run's `uname -r`, in the order given.
    public var kernels: [String]
    /// One row per claim, in catalog order.
    public var claims: [Row]
    /// What changed between consecutive kernels.
    public var changes: [KernelComparison.Change]

    /// `ids` (case-insensitive) keeps only those claims; empty keeps all.
    public init(runs: [RunResult], catalog: [Scenario], ids: [String] = []) {
        let wanted = Set(ids.map { $0.uppercased() })
        let keep = { (id: String) in wanted.isEmpty || wanted.contains(id.uppercased()) }
        let entries = runs.map { ClaimsReport.entries($0, catalog: catalog).filter { keep($0.id) } }
        kernels = runs.map(\.kernel)
        var order: [String] = []
        for entry in entries.flatMap({ $0 }) where !order.contains(entry.id) { order.append(entry.id) }
        claims = order.compactMap { id in
            let found = entries.map { $0.first { $0.id == id } }
            guard let claim = found.compactMap({ $0?.claim }).first else { return nil }
            let cells = zip(found, runs).map { entry, run in
                entry.map { Cell(kernel: $0.kernel, verdict: $0.verdict, evidence: $0.evidence) }
                    ?? Cell(kernel: run.kernel, verdict: "not in this run", evidence: "")
            }
            return Row(id: id, claim: claim, cells: cells)
        }
        changes = KernelComparison.changes(runs, catalog: catalog).filter { keep($0.id) }
    }
}
