extension RunResult {
    /// One run per kernel: the shards of one kernel's run (`run --shard I/N`, one CI job each)
    /// are joined into one, in the order the kernels first appear, so the matrix and the
    /// claims show one column per kernel, whatever the split.
    public static func joiningShards(_ runs: [RunResult]) -> [RunResult] {
        var joined: [RunResult] = []
        for run in runs {
            if let index = joined.firstIndex(where: { $0.kernel == run.kernel }) {
                joined[index].scenarios += run.scenarios
                joined[index].startedAt = min(joined[index].startedAt, run.startedAt)
            } else {
                joined.append(run)
            }
        }
        return joined
    }
}
