import NetfilterModel
import RulesetImport
import Testing

/// A ruleset in `nft -j list ruleset` form: one `ip filter` table (or `family`), an input base
/// chain, a regular chain `user`, `extra` objects, and one rule in input with `expressions`.
func nftJSON(_ expressions: String, family: String = "ip", extra: String = "") -> String {
  """
  {"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
  {"table": {"family": "\(family)", "name": "filter", "handle": 1}},
  {"chain": {"family": "\(family)", "table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
  {"chain": {"family": "\(family)", "table": "filter", "name": "user", "handle": 2}},\(extra)
  {"rule": {"family": "\(family)", "table": "filter", "chain": "input", "handle": 7, "expr": [\(expressions)]}}]}
  """
}

/// Imports one rule's expressions and returns the rule and the whole import.
func importJSONRule(_ expressions: String, family: String = "ip") throws -> (Rule, ImportedRuleset) {
  let imported = NFTJSONImporter().importRuleset(nftJSON(expressions, family: family), file: "r.json")
  #expect(imported.errors.isEmpty, "\(imported.errors)")
  let rule = try #require(imported.ruleset.tables.first?.chains.first?.rules.first)
  return (rule, imported)
}

/// `{"match": {"op": OP, "left": LEFT, "right": RIGHT}}`.
func jsonMatch(_ left: String, _ right: String, op: String = "==") -> String {
  #"{"match": {"op": "\#(op)", "left": \#(left), "right": \#(right)}}"#
}

func payload(_ proto: String, _ field: String) -> String {
  #"{"payload": {"protocol": "\#(proto)", "field": "\#(field)"}}"#
}

func meta(_ key: String) -> String { #"{"meta": {"key": "\#(key)"}}"# }

private func prefix(_ s: String) -> AddressElement {
  let parts = s.split(separator: "/")
  let a = IPAddress(String(parts[0]))!
  return .prefix(IPPrefix(address: a, length: parts.count > 1 ? Int(parts[1])! : a.bitWidth))
}

@Suite struct NFTJSONImportTests {
  @Test func tablesChainsAndPolicies() throws {
    let text = nftJSON(#"{"accept": null}"#)
    let imported = NFTJSONImporter().importRuleset(text, file: "r.json")
    #expect(imported.diagnostics.isEmpty)
    #expect(
      imported.ruleset
        == Ruleset(tables: [
          Table(
            family: .ip, name: "filter",
            chains: [
              Chain(
                name: "input", kind: .base(BaseChain(type: .filter, hook: .input, priority: .number(0), policy: .drop)),
                rules: [Rule(verdict: .accept)]),
              Chain(name: "user", kind: .regular),
            ])
        ]))
  }

  @Test func ingressChainWithDeviceAndNumericPriority() throws {
    let text = """
      {"nftables": [{"table": {"family": "inet", "name": "t", "handle": 1}},
      {"chain": {"family": "inet", "table": "t", "name": "in", "handle": 1, "type": "filter", "hook": "ingress", "prio": -5, "policy": "accept", "dev": "eth0"}}]}
      """
    let imported = NFTJSONImporter().importRuleset(text, file: "r.json")
    #expect(
      imported.ruleset.tables.first?.chains.first?.base
        == BaseChain(type: .filter, hook: .ingress, priority: .number(-5), policy: .accept, device: "eth0"))
  }

  @Test func otherFamiliesAreSkippedWithAWarning() {
    let text = """
      {"nftables": [{"table": {"family": "bridge", "name": "b", "handle": 1}},
      {"chain": {"family": "bridge", "table": "b", "name": "fw", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}},
      {"rule": {"family": "bridge", "table": "b", "chain": "fw", "handle": 2, "expr": [{"drop": null}]}},
      {"flowtable": {"family": "bridge", "table": "b", "name": "ft", "handle": 3}}]}
      """
    let imported = NFTJSONImporter().importRuleset(text, file: "r.json")
    #expect(imported.ruleset.tables.isEmpty)
    #expect(imported.errors.isEmpty)
    #expect(
      imported.warnings.map(\.description) == [
        "r.json:1:1: warning: table bridge b is skipped: only ip, ip6 and inet tables are imported",
        "r.json:1:1: warning: nft flowtable bridge b ft is not imported (the model has no flowtable objects)",
      ])
  }

  @Test func namedSets() throws {
    let sets = """

      {"set": {"family": "inet", "name": "admins", "table": "filter", "type": "ipv4_addr", "handle": 3, "flags": ["interval"], "elem": ["10.0.0.7", {"prefix": {"addr": "10.1.0.0", "len": 16}}, {"range": ["10.2.0.1", "10.2.0.9"]}]}},
      {"set": {"family": "inet", "name": "web", "table": "filter", "type": "inet_service", "handle": 4, "flags": ["interval"], "elem": [80, {"range": [8000, 8080]}]}},
      {"set": {"family": "inet", "name": "ifs", "table": "filter", "type": "ifname", "handle": 5, "elem": ["eth0", "veth*"]}},
      {"set": {"family": "inet", "name": "t", "table": "filter", "type": "ipv4_addr", "handle": 6, "flags": ["timeout"], "elem": [{"elem": {"val": "10.9.9.9", "timeout": 60}}]}},
      """
    let imported = NFTJSONImporter().importRuleset(
      nftJSON(#"{"accept": null}"#, family: "inet", extra: sets), file: "r.json")
    #expect(imported.diagnostics.isEmpty)
    let table = try #require(imported.ruleset.tables.first)
    #expect(
      table.sets == [
        NamedSet(
          name: "admins", type: .ipv4Address,
          elements: [
            .address(prefix("10.0.0.7")), .address(prefix("10.1.0.0/16")),
            .address(.range(IPAddress("10.2.0.1")!, IPAddress("10.2.0.9")!)),
          ]),
        NamedSet(name: "web", type: .inetService, elements: [.port(PortRange(80)), .port(PortRange(8000, 8080))]),
        NamedSet(
          name: "ifs", type: .interfaceName,
          elements: [
            .interface(InterfacePattern(name: "eth0")), .interface(InterfacePattern(name: "veth", isWildcard: true)),
          ]
        ),
        NamedSet(name: "t", type: .ipv4Address, elements: [.address(prefix("10.9.9.9"))]),
      ])
  }

  @Test func concatenatedSetTypesAreSkippedWithAWarning() {
    let sets = """

      {"set": {"family": "ip", "name": "pairs", "table": "filter", "type": ["ipv4_addr", "inet_service"], "handle": 3}},
      """
    let imported = NFTJSONImporter().importRuleset(nftJSON(#"{"accept": null}"#, extra: sets), file: "r.json")
    #expect(imported.ruleset.tables.first?.sets == [])
    #expect(
      imported.warnings.map(\.message) == [
        #"set ip filter pairs is not imported: type ["ipv4_addr","inet_service"] is not modelled"#
      ])
  }

  @Test func addresses() throws {
    let (rule, imported) = try importJSONRule(
      [
        jsonMatch(payload("ip", "saddr"), #""10.0.0.1""#),
        jsonMatch(payload("ip", "daddr"), #"{"prefix": {"addr": "10.0.0.0", "len": 8}}"#, op: "!="),
        jsonMatch(payload("ip", "saddr"), #"{"range": ["172.16.0.1", "172.16.0.9"]}"#),
        jsonMatch(payload("ip", "daddr"), #"{"set": ["192.0.2.1", {"prefix": {"addr": "198.51.100.0", "len": 24}}]}"#),
        jsonMatch(payload("ip", "saddr"), #""@admins""#, op: "!="),
        #"{"drop": null}"#,
      ].joined(separator: ", "))
    #expect(imported.diagnostics.isEmpty)
    #expect(
      rule.matches == [
        Match(.address(.v4, .source, .single(prefix("10.0.0.1")))),
        Match(.address(.v4, .destination, .single(prefix("10.0.0.0/8"))), negated: true),
        Match(.address(.v4, .source, .single(.range(IPAddress("172.16.0.1")!, IPAddress("172.16.0.9")!)))),
        Match(.address(.v4, .destination, .set([prefix("192.0.2.1"), prefix("198.51.100.0/24")]))),
        Match(.address(.v4, .source, .named("admins")), negated: true),
      ])
    #expect(rule.verdict == .drop)
  }

  @Test func ip6AddressesAndNextHeader() throws {
    let (rule, _) = try importJSONRule(
      [
        jsonMatch(payload("ip6", "saddr"), #"{"prefix": {"addr": "fe80::", "len": 10}}"#),
        jsonMatch(payload("ip6", "nexthdr"), #""tcp""#),
        #"{"accept": null}"#,
      ].joined(separator: ", "), family: "ip6")
    #expect(
      rule.matches == [
        Match(.address(.v6, .source, .single(prefix("fe80::/10")))),
        Match(.l4proto(.ip6NextHeader, .single(6))),
      ])
  }

  @Test func portsAndProtocols() throws {
    let (rule, _) = try importJSONRule(
      [
        jsonMatch(meta("l4proto"), #""tcp""#),
        jsonMatch(payload("ip", "protocol"), #"{"set": ["gre", 50]}"#, op: "!="),
        jsonMatch(payload("tcp", "dport"), "22"),
        jsonMatch(payload("tcp", "sport"), #"{"range": [1024, 65535]}"#, op: "!="),
        jsonMatch(payload("udp", "dport"), #"{"set": [53, {"range": [5000, 5010]}]}"#),
        jsonMatch(payload("udp", "sport"), #""@web""#),
        #"{"accept": null}"#,
      ].joined(separator: ", "))
    #expect(
      rule.matches == [
        Match(.l4proto(.metaL4proto, .single(6))),
        Match(.l4proto(.ipProtocol, .set([47, 50])), negated: true),
        Match(.port(.tcp, .destination, .single(PortRange(22)))),
        Match(.port(.tcp, .source, .single(PortRange(1024, 65535))), negated: true),
        Match(.port(.udp, .destination, .set([PortRange(53), PortRange(5000, 5010)]))),
        Match(.port(.udp, .source, .named("web"))),
      ])
  }

  @Test func interfacesStatesMarksICMPAndEther() throws {
    let (rule, imported) = try importJSONRule(
      [
        jsonMatch(meta("iifname"), #""veth*""#),
        jsonMatch(meta("oifname"), #"{"set": ["eth0", "eth1"]}"#, op: "!="),
        jsonMatch(#"{"ct": {"key": "state"}}"#, #"["established", "related"]"#, op: "in"),
        jsonMatch(#"{"ct": {"key": "state"}}"#, #"{"set": ["invalid"]}"#, op: "!="),
        jsonMatch(meta("mark"), "16"),
        jsonMatch(#"{"&": [{"meta": {"key": "mark"}}, 65280]}"#, "256"),
        jsonMatch(payload("icmp", "type"), #"{"set": ["echo-reply", "echo-request"]}"#),
        jsonMatch(payload("icmp", "code"), #""host-unreachable""#),
        jsonMatch(payload("ether", "saddr"), #""00:11:22:aa:bb:cc""#),
        jsonMatch(#"{"&": [{"payload": {"protocol": "tcp", "field": "flags"}}, ["syn", "ack"]]}"#, #""syn""#),
        #"{"accept": null}"#,
      ].joined(separator: ", "))
    #expect(imported.diagnostics.isEmpty)
    #expect(
      rule.matches == [
        Match(.interface(.input, .single(InterfacePattern(name: "veth", isWildcard: true)))),
        Match(
          .interface(.output, .set([InterfacePattern(name: "eth0"), InterfacePattern(name: "eth1")])), negated: true),
        Match(.ctState([.established, .related])),
        Match(.ctState([.invalid]), negated: true),
        Match(.mark(value: 16, mask: nil)),
        Match(.mark(value: 256, mask: 0xff00)),
        Match(.icmpType(.v4, .set([0, 8]))),
        Match(.icmpCode(.v4, .single(1))),
        Match(.etherSource(.single(MACAddress("00:11:22:aa:bb:cc")!))),
        Match(.tcpFlags(value: .syn, mask: [.syn, .ack])),
      ])
  }

  @Test func familiesAndInterfaceIndexes() throws {
    let (rule, imported) = try importJSONRule(
      [
        jsonMatch(meta("nfproto"), #""ipv4""#), jsonMatch(meta("iif"), #""lo""#),
        jsonMatch(meta("oif"), #""eth0""#, op: "!="), #"{"accept": null}"#,
      ].joined(separator: ", "), family: "inet")
    #expect(imported.diagnostics.isEmpty)
    #expect(
      rule.matches == [
        Match(.nfproto(.v4)), Match(.interfaceIndex(.input, .single("lo"))),
        Match(.interfaceIndex(.output, .single("eth0")), negated: true),
      ])
  }

  @Test func icmpv6Types() throws {
    let (rule, _) = try importJSONRule(
      jsonMatch(payload("icmpv6", "type"), #""echo-request""#) + #", {"accept": null}"#, family: "inet")
    #expect(rule.matches == [Match(.icmpType(.v6, .single(128)))])
  }

  @Test func statements() throws {
    let (rule, imported) = try importJSONRule(
      [
        #"{"limit": {"rate": 10, "burst": 5, "per": "second"}}"#,
        #"{"counter": {"packets": 12, "bytes": 3400}}"#,
        #"{"log": {"prefix": "in: ", "level": "info"}}"#,
        #"{"mangle": {"key": {"meta": {"key": "mark"}}, "value": 42}}"#,
      ].joined(separator: ", "))
    #expect(imported.diagnostics.isEmpty)
    #expect(rule.matches == [Match(.limit(RateLimit(rate: 10, unit: .second)))])
    #expect(
      rule.statements == [Statement(.counter), Statement(.log(prefix: "in: ", level: .info)), Statement(.setMark(42))])
    #expect(rule.verdict == nil)
  }

  @Test func byteLimitsAndOver() throws {
    let (rule, _) = try importJSONRule(
      #"{"limit": {"rate": 10, "burst": 0, "per": "second", "rate_unit": "mbytes", "burst_unit": "bytes", "inv": true}}, {"drop": null}"#
    )
    #expect(
      rule.matches == [Match(.limit(RateLimit(rate: 10 * 1024 * 1024, unit: .second, quantity: .bytes, over: true)))])
  }

  @Test(arguments: [
    (#"{"accept": null}"#, Verdict.accept),
    (#"{"drop": null}"#, .drop),
    (#"{"continue": null}"#, .continue),
    (#"{"return": null}"#, .return),
    (#"{"jump": {"target": "user"}}"#, .jump(chain: "user")),
    (#"{"goto": {"target": "user"}}"#, .goto(chain: "user")),
    (#"{"reject": null}"#, .reject(nil)),
    (#"{"reject": {"type": "tcp reset"}}"#, .reject(.tcpReset)),
    (#"{"reject": {"type": "icmp", "expr": "host-prohibited"}}"#, .reject(.icmp(.hostProhibited))),
    (#"{"reject": {"type": "icmpv6", "expr": "admin-prohibited"}}"#, .reject(.icmpv6(.adminProhibited))),
    (#"{"reject": {"type": "icmpx", "expr": "port-unreachable"}}"#, .reject(.icmpx(.portUnreachable))),
    (
      #"{"snat": {"addr": "203.0.113.6", "port": 2525}}"#,
      .snat(NATDestination(address: IPAddress("203.0.113.6")!, ports: PortRange(2525)))
    ),
    (
      #"{"dnat": {"family": "ip", "addr": {"range": ["10.0.0.1", "10.0.0.9"]}, "port": {"range": [80, 88]}}}"#,
      .dnat(
        NATDestination(address: IPAddress("10.0.0.1")!, lastAddress: IPAddress("10.0.0.9")!, ports: PortRange(80, 88)))
    ),
    (#"{"masquerade": null}"#, .masquerade(ports: nil)),
    (#"{"masquerade": {"port": {"range": [20000, 30000]}}}"#, .masquerade(ports: PortRange(20000, 30000))),
    (#"{"redirect": {"port": 8080}}"#, .redirect(ports: PortRange(8080))),
  ])
  func verdicts(_ json: String, _ verdict: Verdict) throws {
    let (rule, imported) = try importJSONRule(json)
    #expect(imported.diagnostics.isEmpty)
    #expect(rule.verdict == verdict)
  }

  @Test func anUnknownMatchIsKeptOpaqueWithAWarning() throws {
    let fib =
      #"{"match": {"op": "==", "left": {"fib": {"flags": ["daddr", "iif"], "result": "type"}}, "right": "local"}}"#
    let (rule, imported) = try importJSONRule(fib + #", {"accept": null}"#)
    let text = #"{"match":{"left":{"fib":{"flags":["daddr","iif"],"result":"type"}},"op":"==","right":"local"}}"#
    #expect(rule.matches == [Match(.opaque(OpaqueMatch(module: "fib", text: text, syntax: .nftJSON)))])
    #expect(rule.verdict == .accept)
    #expect(
      imported.warnings.map(\.description) == [
        "r.json:1:1: warning: rule ip filter/input/7: fib is not modelled; kept as an opaque match \(text)"
      ])
  }

  @Test func anUnknownStatementIsAnOpaqueTargetOrMatch() throws {
    let quota = #"{"quota": {"val": 25, "val_unit": "mbytes"}}"#
    let (alone, imported) = try importJSONRule(quota)
    let text = #"{"quota":{"val":25,"val_unit":"mbytes"}}"#
    #expect(alone.verdict == .opaque(OpaqueTarget(name: "quota", text: text, isTerminal: false, syntax: .nftJSON)))
    #expect(
      imported.warnings.map(\.message) == [
        "rule ip filter/input/7: quota is not modelled; kept as an opaque non-terminal target \(text)"
      ])
    let (withVerdict, _) = try importJSONRule(quota + #", {"drop": null}"#)
    #expect(withVerdict.matches == [Match(.opaque(OpaqueMatch(module: "quota", text: text, syntax: .nftJSON)))])
    #expect(withVerdict.verdict == .drop)
  }

  @Test func aVerdictMapIsATerminalOpaqueTarget() throws {
    let vmap =
      #"{"vmap": {"key": {"meta": {"key": "iifname"}}, "data": {"set": [["lo", {"accept": null}]]}}}"#
    let (rule, _) = try importJSONRule(vmap)
    guard case .opaque(let target)? = rule.verdict else {
      Issue.record("expected an opaque target, got \(String(describing: rule.verdict))")
      return
    }
    #expect(target.name == "vmap" && target.isTerminal)
  }

  @Test func aNATStatementWithUnmodelledFlagsStaysTerminal() throws {
    let (rule, imported) = try importJSONRule(#"{"snat": {"addr": "203.0.113.5", "flags": ["persistent"]}}"#)
    let text = #"{"snat":{"addr":"203.0.113.5","flags":["persistent"]}}"#
    #expect(rule.verdict == .opaque(OpaqueTarget(name: "snat", text: text, isTerminal: true, syntax: .nftJSON)))
    #expect(
      imported.warnings.map(\.message) == [
        "rule ip filter/input/7: snat is not modelled; kept as an opaque target \(text)"
      ])
  }

  @Test func malformedJSONIsALocatedError() {
    let imported = NFTJSONImporter().importRuleset("{\"nftables\": [\n  {\"table\": },\n]}", file: "bad.json")
    #expect(imported.ruleset.tables.isEmpty)
    #expect(imported.errors.count == 1)
    let error = imported.errors[0]
    #expect(error.location.line == 2 && error.location.column == 13)
    #expect(error.description.hasPrefix("bad.json:2:13: error: not valid JSON"))
  }

  @Test func jsonThatIsNotARulesetIsAnError() {
    let imported = NFTJSONImporter().importRuleset(#"{"tables": []}"#, file: "x.json")
    #expect(
      imported.errors.map(\.description) == [
        #"x.json:1:1: error: not an nft JSON ruleset: expected an object with an "nftables" array"#
      ])
  }

  @Test func aRuleOfAnUnknownChainIsAnError() {
    let text = """
      {"nftables": [{"table": {"family": "ip", "name": "f", "handle": 1}},
      {"rule": {"family": "ip", "table": "f", "chain": "nope", "handle": 2, "expr": [{"drop": null}]}}]}
      """
    let imported = NFTJSONImporter().importRuleset(text, file: "x.json")
    #expect(imported.errors.count == 1)
    #expect(imported.errors.first?.message.hasPrefix("rule of an unknown table or chain") == true)
  }

  @Test func commentsAreKept() throws {
    let text = nftJSON(#"{"accept": null}"#).replacingOccurrences(
      of: #""handle": 7,"#, with: #""handle": 7, "comment": "lab traffic","#)
    let imported = NFTJSONImporter().importRuleset(text, file: "r.json")
    #expect(imported.ruleset.tables.first?.chains.first?.rules.first?.comment == "lab traffic")
  }

  @Test func formatDetectionRecognisesJSON() {
    #expect(RulesetFormat.detect(nftJSON(#"{"accept": null}"#)) == .nftJSON)
  }
}
