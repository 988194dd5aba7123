/// Escaping for text that comes from scenarios, peers and the kernel (stderr, errno strings, messages):
/// any of it may contain markup characters or control bytes that would make the XML unreadable.
enum XMLEscaping {
    /// For element content: tab and newline stay as they are, everything else unsafe is replaced.
    static func text(_ string: String) -> String {
        escape(string, keepingRaw: ["\t", "\n"])
    }

    /// For attribute values: parsers normalise raw tabs and newlines in attributes to spaces,
    /// so they are written as character references to survive.
    static func attribute(_ string: String) -> String {
        escape(string, keepingRaw: [])
    }

    private static func escape(_ string: String, keepingRaw raw: Set<Unicode.Scalar>) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(string.unicodeScalars.count)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case _ where raw.contains(scalar): out.unicodeScalars.append(scalar)
            case "\t", "\n", "\r": out += "&#\(scalar.value);"
            case _ where isForbidden(scalar): out.unicodeScalars.append(replacement)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// U+FFFD: XML 1.0 does not allow C0 controls even as character references, so they cannot be kept.
    private static let replacement: Unicode.Scalar = "\u{FFFD}"

    /// C0 controls are illegal in XML 1.0; DEL and C1 controls are legal but unreadable in CI logs;
    /// U+FFFE and U+FFFF are not XML characters.
    private static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0xFFFE, 0xFFFF: true
        default: false
        }
    }
}
