// firebreak-bench: the indexed verdict engine against the linear reference on ClassBench-like
// rulesets of 100 to 100k rules. Prints a table; not a test. Build and run with `make bench`.
//
//   firebreak-bench [--seed N] [--packets N] [--long]
//
// --long evaluates at least 1M packets per size with the indexed engine and checks every answer
// against the linear engine on a sample.

import Foundation
import NetfilterModel
import SyntheticRulesets
import VerdictEngine

var seed: UInt64 = 42
var indexedPackets = 200_000
var long = false
/// Profiling aid: run only the indexed engine's timing loop (`--profile-indexed`), so `perf`
/// sees nothing else.
var profileIndexed = false
var sizes = [100, 1_000, 10_000, 100_000]
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let a = arguments.next() {
  switch a {
  case "--seed": seed = UInt64(arguments.next() ?? "") ?? seed
  case "--packets": indexedPackets = Int(arguments.next() ?? "") ?? indexedPackets
  case "--long": long = true
  case "--profile-indexed": profileIndexed = true
  case "--sizes": sizes = (arguments.next() ?? "").split(separator: ",").compactMap { Int($0) }
  default:
    FileHandle.standardError.write(
      Data("usage: firebreak-bench [--seed N] [--packets N] [--sizes 100,1000,...] [--long]\n".utf8))
    exit(2)
  }
}
if long { indexedPackets = max(indexedPackets, 1_000_000) }

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

/// Median of three runs of `body`, in seconds.
func median(_ body: () throws -> Void) rethrows -> Double {
  var times: [Double] = []
  let clock = ContinuousClock()
  for _ in 0..<3 { times.append(seconds(try clock.measure(body))) }
  return times.sorted()[1]
}

print("firebreak-bench seed \(seed); one core; verdict and deciding rule per packet (no trace)")
print("")
print(
  "| rules | index build | index memory | candidates/packet | linear pkts/s | indexed pkts/s | speed-up | answers checked |"
)
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
var generator = SyntheticRulesets(seed: seed)
for size in sizes {
  let ruleset = generator.ruleset(size: size)
  var indexed: Simulator!
  let build = median { indexed = Simulator(ruleset: ruleset, engine: .indexed) }
  let indexes = ruleset.tables[0].chains.map { ChainIndex(chain: $0, table: ruleset.tables[0]) }
  let memory = indexes.reduce(0) { $0 + $1.approximateBytes }
  let linear = Simulator(ruleset: ruleset, engine: .linear)
  let linearCount = max(200, min(200_000, 20_000_000 / size))
  let indexedCount = size >= 100_000 ? max(indexedPackets / 2, 100_000) : indexedPackets
  let packets = generator.packets(max(linearCount, indexedCount), for: ruleset)
  // Rules of the base chain the index leaves to check exactly, on average (a packet the index
  // cannot narrow down counts the whole chain).
  let sample = packets.prefix(10_000)
  let candidates =
    Double(sample.reduce(0) { $0 + (indexes[0].candidates(for: $1.packet, hook: .forward)?.count ?? size) })
    / Double(sample.count)
  var sink = 0
  if profileIndexed {
    for p in packets.prefix(indexedCount) { sink &+= try indexed.simulate(p, trace: false).decidedBy?.index ?? -1 }
    print("\(size) rules: \(indexedCount) packets, sink \(sink)")
    continue
  }
  let linearTime = try median {
    for p in packets.prefix(linearCount) { sink &+= try linear.simulate(p, trace: false).decidedBy?.index ?? -1 }
  }
  let indexedTime = try median {
    for p in packets.prefix(indexedCount) { sink &+= try indexed.simulate(p, trace: false).decidedBy?.index ?? -1 }
  }
  // Every answer of the sample must be the same.
  var checked = 0
  for p in packets.prefix(min(linearCount, 5_000)) {
    let a = try linear.simulate(p, trace: false)
    let b = try indexed.simulate(p, trace: false)
    guard a == b else {
      print("DIFFERENT ANSWER at \(size) rules for \(p.packet.summary)")
      exit(1)
    }
    checked += 1
  }
  let linearRate = Double(linearCount) / linearTime
  let indexedRate = Double(indexedCount) / indexedTime
  func rate(_ r: Double) -> String { r >= 1e6 ? String(format: "%.2fM", r / 1e6) : String(format: "%.0fk", r / 1e3) }
  print(
    "| \(size) | \(String(format: "%.1f ms", build * 1000)) | \(String(format: "%.1f MiB", Double(memory) / 1_048_576)) | \(String(format: "%.1f", candidates)) | \(rate(linearRate)) | \(rate(indexedRate)) | \(String(format: "%.0f×", indexedRate / linearRate)) | \(checked) |"
  )
  if sink == 42 { print("") }
}
