import Foundation

/// The `--json` file: the `RunResult` model as stable, diff-friendly JSON.
public enum JSONReport {
    /// Pretty-printed with sorted keys so two runs diff line by line;
    /// times are rounded to microseconds so float noise does not show up in those diffs.
    public static func encode(_ result: RunResult) throws -> Data {
        try encoder.encode(result.roundedToMicroseconds())
    }

    /// `netfault sweep --json`: the same per-scenario results, one per swept value.
    public static func encode(_ sweep: SweepResult) throws -> Data {
        var rounded = sweep
        rounded.points = sweep.points.map { .init(value: $0.value, result: $0.result.roundedToMicroseconds()) }
        return try encoder.encode(rounded)
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Reads a file written by `encode`, e.g. to compare two runs.
    public static func decode(_ data: Data) throws -> RunResult {
        try JSONDecoder().decode(RunResult.self, from: data)
    }
}
