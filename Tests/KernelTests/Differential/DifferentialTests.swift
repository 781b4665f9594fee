import Foundation
import IPTablesBackend
import NFTablesBackend
import NetfilterModel
import PolicyLanguage
import Testing
import VerdictEngine

/// Random rulesets and random packets, judged by the real kernel (through both backends) and by
/// the engine: the verdict and every rule the packet matched must agree, case by case.
///
/// Seeded: set FIREBREAK_SEED to replay a run; FIREBREAK_DIFF_RULESETS and
/// FIREBREAK_DIFF_PACKETS size it (defaults give 1,000+ packet cases per backend).
@Suite(.serialized, .enabled(if: Kernel.available, "kernel tests need root and the netfilter tools (see stderr)"))
struct DifferentialTests {
  struct Case {
    var source: UInt32
    var destination: UInt32
    var proto: UInt8
    var sourcePort: UInt16
    var destinationPort: UInt16
    var tcpFlags: UInt8
    var icmpID: UInt16
    var forward: Bool
  }

  static func environment(_ name: String, default value: Int) -> Int {
    ProcessInfo.processInfo.environment[name].flatMap(Int.init) ?? value
  }

  @Test func kernelAgreesWithEngine() throws {
    let seed =
      ProcessInfo.processInfo.environment["FIREBREAK_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
    let rulesets = Self.environment("FIREBREAK_DIFF_RULESETS", default: 60)
    let packetsPerRuleset = Self.environment("FIREBREAK_DIFF_PACKETS", default: 18)
    FileHandle.standardError.write(
      Data(
        "differential: FIREBREAK_SEED=\(seed) (\(rulesets) rulesets × \(packetsPerRuleset) packets × 2 backends)\n".utf8
      ))

    let lab = try DifferentialLab()
    defer { lab.remove() }
    var generator = RulesetGenerator(seed: seed)
    var cases = 0
    var failures: [String] = []
    var usedTuples = Set<String>()
    var verdicts: [Simulation.Verdict: Int] = [:]

    for n in 0..<rulesets {
      let ruleset = try compilable(&generator)
      let packets = (0..<packetsPerRuleset).map { _ in packet(&generator, ruleset, &usedTuples) }
      for backend in DifferentialLab.Backend.allCases {
        try lab.load(ruleset, backend)
        var before = try lab.counters(backend)
        for p in packets {
          let after = try lab.send(frame(p, lab), backend: backend, before: before)
          let accepted = p.forward ? after.lateForward > before.lateForward : after.lateInput > before.lateInput
          let kernelMatched = Set(after.rules.filter { $0.value > (before.rules[$0.key] ?? 0) }.keys)
          before = after

          let simulation = try Simulator(ruleset: ruleset).simulate(request(p))
          let engineMatched = Set(
            simulation.trace.filter { $0.matched && $0.index != nil }.compactMap { $0.source?.line })
          cases += 1
          verdicts[simulation.verdict, default: 0] += 1
          if (simulation.verdict == .accept) != accepted || engineMatched != kernelMatched
            || simulation.verdict == .unknown
          {
            failures.append(
              """
              seed \(seed) ruleset \(n) backend \(backend.rawValue): \(describe(p))
                kernel: \(accepted ? "accept" : "not accepted"), matched lines \(kernelMatched.sorted())
                engine: \(simulation.verdict.rawValue) \(simulation.reason ?? ""), matched lines \(engineMatched.sorted())
              \(NFTScript().listing(ruleset))
              """)
          }
        }
      }
    }
    FileHandle.standardError.write(
      Data(
        "differential: \(cases) cases, \(cases - failures.count) agree (\(verdicts.map { "\($0.key.rawValue) \($0.value)" }.sorted().joined(separator: ", ")))\n"
          .utf8))
    #expect(cases >= 1000 || rulesets * packetsPerRuleset * 2 < 1000)
    if !failures.isEmpty {
      let report = failures.joined(separator: "\n")
      _ = FileManager.default.createFile(
        atPath: "/tmp/firebreak-differential-failures.txt", contents: Data(report.utf8))
    }
    #expect(
      failures.isEmpty,
      "\(failures.count) disagreements (all in /tmp/firebreak-differential-failures.txt); first:\n\(failures.first ?? "")"
    )
  }

  /// A generated ruleset that both backends and the validator accept: rules a backend refuses
  /// (iptables cannot split a set with overlapping elements before a jump, …) are dropped.
  func compilable(_ generator: inout RulesetGenerator) throws -> Ruleset {
    for _ in 0..<50 {
      var ruleset = generator.ruleset()
      for _ in 0..<5 {
        var problems = RulesetValidator(ruleset: ruleset).validate()
        problems += NFTScript().unsupported(ruleset)
        do {
          _ = try IPTablesCompiler().compile(ruleset)
        } catch let list as DiagnosticList {
          problems += list.diagnostics
        }
        if problems.isEmpty { return ruleset }
        let bad = Set(problems.map(\.location.line))
        for t in ruleset.tables.indices {
          for c in ruleset.tables[t].chains.indices {
            ruleset.tables[t].chains[c].rules.removeAll { bad.contains($0.location.line) }
          }
        }
      }
    }
    throw TestFailure("could not generate a ruleset both backends accept")
  }

  func addresses(_ ruleset: Ruleset, _ direction: Direction) -> [UInt32] {
    var result: [UInt32] = []
    for table in ruleset.tables {
      for chain in table.chains {
        for rule in chain.rules {
          for m in rule.matches {
            guard case .address(_, let d, let op) = m.kind, d == direction else { continue }
            for e in op.inlineElements {
              let (lo, hi) = e.bounds
              guard case .v4(let a) = lo, case .v4(let b) = hi else { continue }
              result += [a, b, a &- 1, b &+ 1]
            }
          }
        }
      }
    }
    return result
  }

  /// A packet biased to hit the ruleset's boundaries: addresses at and just outside its prefixes.
  func packet(_ g: inout RulesetGenerator, _ ruleset: Ruleset, _ used: inout Set<String>) -> Case {
    let forward = g.chance(0.5)
    func valid(_ a: UInt32) -> Bool {
      let first = a >> 24
      // Martians and the lab's own addresses would be dropped outside netfilter.
      return first != 0 && first != 127 && first < 224 && a != 0x0a01_0001 && a != 0x0a02_0001 && a & 0xff != 255
        && a != 0x0afe_fefe && a & 0xff != 0
    }
    var sources = addresses(ruleset, .source).filter(valid)
    sources += [0x0a05_0107, 0xc0a8_0105, 0xc612_0001, 0x0b00_0001]
    var source = g.pick(sources)
    var destination: UInt32 = 0x0a01_0001
    if forward {
      let pool =
        addresses(ruleset, .destination).filter { $0 >> 20 == 0xac1 && valid($0) } + [
          0xac10_0105, 0xac11_0203, 0xac14_0001,
        ]
      destination = g.pick(pool)
    }
    if !valid(source) { source = 0x0a05_0107 }
    let proto = g.pick([6, 6, 17, 17, 1] as [UInt8])
    var c = Case(
      source: source, destination: destination, proto: proto, sourcePort: 0, destinationPort: 0,
      tcpFlags: g.pick([0x02, 0x02, 0x10]), icmpID: UInt16.random(in: 1...0xfffe, using: &g.rng), forward: forward)
    if proto != 1 {
      c.destinationPort = g.chance(0.7) ? g.pick(RulesetGenerator.ports) : UInt16.random(in: 1...9000, using: &g.rng)
      c.sourcePort = g.chance(0.3) ? g.pick(RulesetGenerator.ports) : UInt16.random(in: 1024...65000, using: &g.rng)
    }
    // Conntrack must see every case as a new connection: no tuple twice in one lab.
    while !used.insert("\(c.source) \(c.destination) \(c.proto) \(c.sourcePort) \(c.destinationPort) \(c.icmpID)")
      .inserted
    {
      c.sourcePort = UInt16.random(in: 1024...65000, using: &g.rng)
      c.icmpID = UInt16.random(in: 1...0xfffe, using: &g.rng)
    }
    return c
  }

  func frame(_ c: Case, _ lab: DifferentialLab) -> [UInt8] {
    var p = Frames.IPv4Packet(
      sourceMAC: lab.sMAC, destinationMAC: lab.r0MAC, source: c.source, destination: c.destination, proto: c.proto)
    p.sourcePort = c.sourcePort
    p.destinationPort = c.destinationPort
    p.tcpFlags = c.tcpFlags
    p.icmpID = c.icmpID
    return Frames.frame(p)
  }

  func request(_ c: Case) -> Simulator.Request {
    let packet = Packet(
      source: .v4(c.source), destination: .v4(c.destination), l4proto: c.proto,
      sourcePort: c.proto == 1 ? nil : c.sourcePort, destinationPort: c.proto == 1 ? nil : c.destinationPort,
      icmpType: c.proto == 1 ? 8 : nil, icmpCode: c.proto == 1 ? 0 : nil,
      tcpFlags: c.proto == 6 ? TCPFlags(rawValue: c.tcpFlags) : nil, inputInterface: "r0",
      outputInterface: c.forward ? "r1" : nil, ctState: .new)
    return Simulator.Request(packet: packet, hook: c.forward ? .forward : .input)
  }

  func describe(_ c: Case) -> String {
    let proto = ProtocolNames.protocolName(c.proto)
    let ports =
      c.proto == 1 ? "" : " sport \(c.sourcePort) dport \(c.destinationPort) flags 0x\(String(c.tcpFlags, radix: 16))"
    return
      "\(proto) \(IPAddress.v4(c.source)) -> \(IPAddress.v4(c.destination))\(ports) (\(c.forward ? "forward" : "input"))"
  }
}
