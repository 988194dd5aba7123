extension HTMLReport {
    /// Inline so the page needs nothing else; system fonts only. The SVG diagrams are styled from here
    /// by class, which inline SVG in HTML shares with the page.
    static let stylesheet = """

        body { font: 14px/1.45 system-ui, sans-serif; color: #222; max-width: 1400px; margin: 1.5em auto; padding: 0 1em; }
        code, pre { font-family: ui-monospace, monospace; }
        table { border-collapse: collapse; margin: 0.5em 0 1em; }
        th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
        th { background: #f3f3f3; }
        td.number { text-align: right; }
        .passed .status { color: #2e7d32; font-weight: bold; }
        .failed .status { color: #c62828; font-weight: bold; }
        .skipped .status { color: #a06800; font-weight: bold; }
        section.scenario { border-top: 2px solid #ddd; margin-top: 2em; }
        pre.error { color: #c62828; white-space: pre-wrap; }
        .note, .backend { color: #666; }
        figure { margin: 0.5em 0 1.2em; }
        figcaption { font-family: ui-monospace, monospace; }
        .transitions { margin: 0.2em 0; font-family: ui-monospace, monospace; font-size: 12px; }
        svg text { font: 11px ui-monospace, monospace; fill: #222; }
        svg .host { font-weight: bold; font-size: 13px; }
        svg .time, svg .axis text { fill: #666; }
        svg .lifeline, svg .axis line { stroke: #999; }
        .segment line { stroke: #334; stroke-width: 1.5; }
        .segment polygon { fill: #334; }
        .faulted line { stroke: #d35400; }
        .faulted polygon { fill: #d35400; }
        .faulted text.label, .faulted text.note { fill: #d35400; }
        .lost line { stroke: #c62828; stroke-dasharray: 5 3; }
        .lost path { stroke: #c62828; stroke-width: 2.5; }
        .lost text.label, .lost text.note { fill: #c62828; }
        svg text.bar { fill: #fff; font-weight: bold; }
        svg text.elided { fill: #666; font-style: italic; }

        """
}
