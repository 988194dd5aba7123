// Results as files: the JSON, JUnit and HTML that `netfault run` writes, from your own code.
import Foundation
import Netfault

let scenarios: [Scenario] = []  // snippet.hide
let result = CatalogRunner.run(scenarios, options: RunOptions(pcapDirectory: "results/pcap"), parallel: 4)
try JSONReport.encode(result).write(to: URL(fileURLWithPath: "results/run.json"))
try JUnitReport.render(result).write(toFile: "results/run.xml", atomically: true, encoding: .utf8)
try HTMLReport.render(result).write(toFile: "results/run.html", atomically: true, encoding: .utf8)
// A saved run read back, e.g. for a ladder diagram of each scenario.
let saved = try JSONReport.decode(Data(contentsOf: URL(fileURLWithPath: "results/run.json")))
for scenario in saved.scenarios {
    print(LadderDiagram.render(scenario))
}
