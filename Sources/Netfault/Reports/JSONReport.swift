import Foundation

/// The `--json` files: results as stable, diff-friendly, versioned JSON (see `ResultFormat`).
public enum JSONReport {
    /// `netfault run --json`. Pretty-printed with sorted keys so two runs diff line by line;
    /// times are rounded to microseconds so float noise does not show up in those diffs.
    public static func encode(_ result: RunResult) throws -> Data {
        try ResultDocument(.run, result.roundedToMicroseconds()).json()
    }

    /// `netfault sweep --json`: the same per-scenario results, one per swept value.
    public static func encode(_ sweep: SweepResult) throws -> Data {
        var rounded = sweep
        rounded.points = sweep.points.map { .init(value: $0.value, result: $0.result.roundedToMicroseconds()) }
        return try ResultDocument(.sweep, rounded).json()
    }

    /// Reads a file written by `encode` (any version this build reads, see `ResultFormat.run`),
    /// e.g. to compare two runs. Throws `UnreadableResultVersion` for a version it cannot read.
    public static func decode(_ data: Data) throws -> RunResult {
        // Version 0 (no schemaVersion, before versions) and 1 differ only by the version
        // fields; RunResult's decoder also takes the older shapes of version 0 (no faults,
        // no segments, `stderr` a string, no `stdout`). A later version whose shape differs
        // in a way the decoder cannot absorb gets its own branch on the version here.
        _ = try ResultVersionHeader.check(data, as: .run)
        return try JSONDecoder().decode(RunResult.self, from: data)
    }
}
