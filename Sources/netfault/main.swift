import Netfault
import NetfaultScenarios
import Foundation

let scenario = Catalog.all[0]
do { try ScenarioRunner.check(scenario) } catch { print(error); exit(2) }
let result = ScenarioRunner.run(scenario)
let data = try JSONEncoder().encode(result)
print(String(decoding: data, as: UTF8.self))
