/// Text from peers and the kernel may carry escape sequences or other control bytes; printed raw they
/// would recolour or garble the user's terminal. They are shown as visible symbols instead.
enum TerminalSanitizing {
    static func visible(_ string: String) -> String {
        var out = ""
        for scalar in string.unicodeScalars {
            switch scalar.value {
            case 0x09, 0x0A: out.unicodeScalars.append(scalar)
            // C0 controls and DEL have their own "control picture" symbols (␛, ␍, ␡ …).
            case 0x00...0x1F: out.unicodeScalars.append(Unicode.Scalar(0x2400 + scalar.value) ?? "\u{FFFD}")
            case 0x7F: out += "\u{2421}"
            case 0x80...0x9F: out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
