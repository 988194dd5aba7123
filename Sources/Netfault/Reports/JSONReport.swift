import Foundation

/// The `--json` file: the `RunResult` model as stable, diff-friendly JSON.
public enum JSONReport {
    /// Pretty-printed with sorted keys so two runs diff line by line;
    /// times are rounded to microseconds so float noise does not show up in those diffs.
    public static func encode(_ result: RunResult) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(result.roundedToMicroseconds())
    }

    /// Reads a file written by `encode`, e.g. to compare two runs.
    public static func decode(_ data: Data) throws -> RunResult {
        try JSONDecoder().decode(RunResult.self, from: data)
    }
}
