import NetfilterModel
import RulesetImport
import Testing

/// Imports one rule line in a minimal dump (`table` with its builtin chains and a user chain).
func importLine(_ line: String, table: String = "filter", family: Family? = nil) throws -> (Rule, ImportedRuleset) {
  let chains =
    table == "nat"
    ? ":PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
    : ":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
  let text = "*\(table)\n\(chains):user - [0:0]\n\(line)\nCOMMIT\n"
  let imported = IPTablesSaveImporter(family: family).importRuleset(text, file: "t.rules")
  #expect(imported.errors.isEmpty, "\(imported.errors)")
  let rule = try #require(imported.ruleset.tables.first?.chains.lazy.compactMap(\.rules.first).first)
  return (rule, imported)
}

/// A prefix element from `10.0.0.0/8` (or either version; a bare address is a full-length prefix).
private func v4(_ s: String) -> AddressElement {
  let parts = s.split(separator: "/")
  let a = IPAddress(String(parts[0]))!
  return .prefix(IPPrefix(address: a, length: parts.count > 1 ? Int(parts[1])! : a.bitWidth))
}

@Suite struct RuleImportTests {
  @Test func addressesProtocolsAndPorts() throws {
    let (rule, _) = try importLine(
      "-A INPUT -s 10.1.2.3/255.255.0.0 ! -d 192.168.1.1 -p tcp -m tcp --sport 1024:65535 ! --dport 22 -j ACCEPT")
    #expect(
      rule.matches == [
        Match(.address(.v4, .source, .single(v4("10.1.0.0/16")))),
        Match(.address(.v4, .destination, .single(v4("192.168.1.1/32"))), negated: true),
        Match(.l4proto(.metaL4proto, .single(6))),
        Match(.port(.tcp, .source, .single(PortRange(1024, 65535)))),
        Match(.port(.tcp, .destination, .single(PortRange(22))), negated: true),
      ])
    #expect(rule.verdict == .accept)
    #expect(rule.location.line == 6 && rule.location.column == 1)
  }

  @Test func oldNegationSyntaxAndProtocolNumbers() throws {
    let (rule, _) = try importLine("-A INPUT -d ! 10.0.0.0/8 ! -p 47 -j DROP")
    #expect(
      rule.matches == [
        Match(.address(.v4, .destination, .single(v4("10.0.0.0/8"))), negated: true),
        Match(.l4proto(.metaL4proto, .single(47)), negated: true),
      ])
    #expect(rule.verdict == .drop)
  }

  @Test func interfacesWithWildcards() throws {
    let (rule, _) = try importLine("-A FORWARD ! -i eth+ -o wlan0 -p all -j DROP")
    #expect(
      rule.matches == [
        Match(.interface(.input, .single(InterfacePattern(name: "eth", isWildcard: true))), negated: true),
        Match(.interface(.output, .single(InterfacePattern(name: "wlan0")))),
      ])
  }

  @Test func multiportIcmpFlagsAndState() throws {
    #expect(
      try importLine("-A INPUT -p udp -m multiport --dports 53,1000:2000 -j ACCEPT").0.matches.last
        == Match(.port(.udp, .destination, .set([PortRange(53), PortRange(1000, 2000)]))))
    #expect(
      try importLine("-A INPUT -p icmp -m icmp --icmp-type 3/4 -j ACCEPT").0.matches.suffix(2) == [
        Match(.icmpType(.v4, .single(3))), Match(.icmpCode(.v4, .single(4))),
      ])
    #expect(
      try importLine("-A INPUT -p icmp -m icmp ! --icmp-type echo-request -j ACCEPT").0.matches.last
        == Match(.icmpType(.v4, .single(8)), negated: true))
    #expect(
      try importLine("-A INPUT -p tcp -m tcp ! --syn -j DROP").0.matches.last
        == Match(.tcpFlags(value: .syn, mask: [.fin, .syn, .rst, .ack]), negated: true))
    #expect(
      try importLine("-A INPUT -p tcp -m tcp --tcp-flags ALL NONE -j DROP").0.matches.last
        == Match(.tcpFlags(value: [], mask: [.fin, .syn, .rst, .psh, .ack, .urg])))
    #expect(
      try importLine("-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT").0.matches
        == [Match(.ctState([.related, .established]))])
    #expect(
      try importLine("-A INPUT -m conntrack ! --ctstate NEW -j ACCEPT").0.matches
        == [Match(.ctState([.new]), negated: true)])
  }

  @Test func rangesMacMarkCommentLimitPhysdev() throws {
    #expect(
      try importLine("-A INPUT -m iprange ! --src-range 10.0.0.1-10.0.0.9 -j ACCEPT").0.matches == [
        Match(.address(.v4, .source, .single(.range(IPAddress("10.0.0.1")!, IPAddress("10.0.0.9")!))), negated: true)
      ])
    #expect(
      try importLine("-A INPUT -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT").0.matches == [
        Match(.etherSource(.single(MACAddress("00:11:22:33:44:55")!)))
      ])
    #expect(
      try importLine("-A INPUT -m mark --mark 0x1/0xff -j ACCEPT").0.matches == [Match(.mark(value: 1, mask: 0xff))])
    let (commented, _) = try importLine("-A INPUT -p icmp -m comment --comment \"has \\\"space\\\"\" -j ACCEPT")
    #expect(commented.comment == "has \"space\"")
    #expect(commented.matches == [Match(.l4proto(.metaL4proto, .single(1)))])
    #expect(
      try importLine("-A INPUT -m limit --limit 5/min --limit-burst 10 -j ACCEPT").0.matches == [
        Match(.limit(RateLimit(rate: 5, unit: .minute, burst: 10)))
      ])
    #expect(
      try importLine("-A FORWARD -m physdev ! --physdev-in veth1 -j ACCEPT").0.matches == [
        Match(.bridgePort(.input, InterfacePattern(name: "veth1")), negated: true)
      ])
    #expect(
      try importLine("-A FORWARD -m physdev --physdev-is-bridged -j ACCEPT").0.matches == [
        Match(.bridgePort(.input, InterfacePattern(name: "", isWildcard: true)))
      ])
  }

  /// addrtype and connmark are exact; an ip6tables addrtype list that means something else than
  /// nft's fib type (UNICAST is "not multicast" there) stays as written.
  @Test func addrtypeAndConnmark() throws {
    let (local, _) = try importLine("-A INPUT -m addrtype ! --src-type LOCAL --dst-type LOCAL,BROADCAST -j ACCEPT")
    #expect(
      local.matches == [
        Match(.addressType(.source, [.local]), negated: true), Match(.addressType(.destination, [.local, .broadcast])),
      ])
    let (mark, _) = try importLine(
      "-A INPUT -m connmark ! --mark 0x1/0xff -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff",
      table: "mangle")
    #expect(mark.matches == [Match(.ctMark(value: 1, mask: 0xff), negated: true)])
    #expect(mark.statements == [Statement(.restoreMark)])
    let (v6local, _) = try importLine("-A INPUT -m addrtype --dst-type LOCAL -j ACCEPT", family: .ip6)
    #expect(v6local.matches == [Match(.addressType(.destination, [.local]))])
    let (v6unicast, imported) = try importLine("-A INPUT -m addrtype --dst-type UNICAST -j ACCEPT", family: .ip6)
    #expect(
      v6unicast.matches == [Match(.opaque(OpaqueMatch(module: "addrtype", text: "-m addrtype --dst-type UNICAST")))])
    #expect(imported.warnings.count == 1)
  }

  @Test func opaqueMatchesKeepTheirTextAndWarn() throws {
    let (rule, imported) = try importLine("-A OUTPUT -o lo -m owner ! --uid-owner 0  -j ACCEPT  ")
    #expect(rule.matches.last == Match(.opaque(OpaqueMatch(module: "owner", text: "-m owner ! --uid-owner 0"))))
    #expect(imported.warnings.count == 1)
    #expect(imported.warnings.first?.location.line == 6)
    #expect(imported.warnings.first?.location.column == 17)
    #expect(imported.warnings.first?.message.contains("owner") == true)
    let (fragment, _) = try importLine("-A INPUT ! -f -j DROP")
    #expect(fragment.matches == [Match(.opaque(OpaqueMatch(module: "fragment", text: "! -f")))])
  }

  @Test func verdictsAndExactTargets() throws {
    #expect(
      try importLine("-A INPUT -p tcp -j REJECT --reject-with tcp-reset").0.verdict == .reject(.tcpReset))
    #expect(try importLine("-A INPUT -j REJECT").0.verdict == .reject(.icmp(.portUnreachable)))
    #expect(
      try importLine("-A INPUT -j REJECT --reject-with icmp-host-prohibited").0.verdict
        == .reject(.icmp(.hostProhibited)))
    #expect(try importLine("-A INPUT -j user").0.verdict == .jump(chain: "user"))
    #expect(try importLine("-A INPUT -g user").0.verdict == .goto(chain: "user"))
    #expect(try importLine("-A INPUT -j RETURN").0.verdict == .return)
    let (log, _) = try importLine("-A INPUT -j LOG --log-prefix \"in: \" --log-level 7")
    #expect(log.verdict == nil)
    #expect(log.statements == [Statement(.log(prefix: "in: ", level: .debug))])
    #expect(
      try importLine("-A INPUT -j MARK --set-xmark 0x2/0xffffffff").0.statements == [Statement(.setMark(2))])
    #expect(try importLine("-A INPUT -j MARK --set-mark 7").0.statements == [Statement(.setMark(7))])
  }

  @Test func natTargets() throws {
    #expect(
      try importLine("-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.2:8080", table: "nat").0.verdict
        == .dnat(NATDestination(address: IPAddress("10.0.0.2")!, ports: PortRange(8080))))
    #expect(
      try importLine("-A POSTROUTING -j SNAT --to-source 1.2.3.4-1.2.3.9", table: "nat").0.verdict
        == .snat(NATDestination(address: IPAddress("1.2.3.4")!, lastAddress: IPAddress("1.2.3.9")!)))
    #expect(
      try importLine("-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000", table: "nat").0.verdict
        == .masquerade(ports: PortRange(1000, 2000)))
    #expect(
      try importLine("-A PREROUTING -p tcp -j REDIRECT --to-ports 8080", table: "nat").0.verdict
        == .redirect(ports: PortRange(8080)))
  }

  @Test func opaqueTargets() throws {
    let (mss, imported) = try importLine("-A FORWARD -p tcp -j TCPMSS --clamp-mss-to-pmtu")
    #expect(
      mss.verdict == .opaque(OpaqueTarget(name: "TCPMSS", text: "-j TCPMSS --clamp-mss-to-pmtu", isTerminal: false)))
    #expect(imported.warnings.count == 1)
    let (queue, _) = try importLine("-A INPUT -j NFQUEUE --queue-num 1")
    #expect(queue.verdict == .opaque(OpaqueTarget(name: "NFQUEUE", text: "-j NFQUEUE --queue-num 1", isTerminal: true)))
    let (xmark, _) = try importLine("-A INPUT -j MARK --set-xmark 0x1/0xff")
    if case .opaque(let t) = xmark.verdict { #expect(!t.isTerminal) } else { Issue.record("MARK with a mask") }
  }

  @Test func ipv6IsDetectedFromAddresses() throws {
    let (rule, imported) = try importLine("-A INPUT -s 2001:db8::/32 -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT")
    #expect(imported.ruleset.tables.first?.family == .ip6)
    #expect(rule.matches.first == Match(.address(.v6, .source, .single(v4("2001:db8::/32")))))
    #expect(rule.matches.last == Match(.icmpType(.v6, .single(128))))
  }

  @Test func messyInputIsAcceptedWithAWarning() {
    let text = """
      some banner the admin pasted
      # Generated by iptables-save
      *filter
      :INPUT DROP [12:345]   
      :FORWARD ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      [5:300] -A INPUT -p tcp --dport 22 -j ACCEPT
      COMMIT
      """
    let imported = IPTablesSaveImporter().importRuleset(text, file: "messy")
    #expect(imported.warnings.count == 1)
    #expect(imported.warnings.first?.location.line == 1)
    #expect(imported.errors.isEmpty)
    #expect(imported.ruleset.table(.ip, "filter")?.chain("INPUT")?.rules.count == 1)
    #expect(imported.ruleset.table(.ip, "filter")?.chain("INPUT")?.base?.policy == .drop)
  }

  /// Garbage is rejected at its line and column; the rest still imports.
  @Test(arguments: [
    ("-A INPUT --bogus 1 -j ACCEPT", 10),
    ("-A nochain -j ACCEPT", 4),
    ("-A INPUT -s 300.1.1.1 -j ACCEPT", 13),
    ("-A INPUT -s 10.0.0.0/255.0.255.0 -j ACCEPT", 22),
    ("-A INPUT -m comment --comment \"open -j ACCEPT", 31),
    ("-A INPUT -g nochain", 10),
    ("-A INPUT -p nosuchproto -j ACCEPT", 13),
    ("-I INPUT -j ACCEPT", 1),
  ])
  func garbageIsALocatedError(_ line: String, _ column: Int) {
    let text = "*filter\n:INPUT ACCEPT [0:0]\n\(line)\n-A INPUT -j DROP\nCOMMIT\n"
    let imported = IPTablesSaveImporter().importRuleset(text, file: "bad.rules")
    #expect(imported.errors.count == 1)
    #expect(imported.errors.first?.location == SourceLocation(file: "bad.rules", line: 3, column: column))
    #expect(imported.errors.first?.location.line == 3)
    #expect(imported.errors.first?.location.column == column, "\(imported.errors)")
    #expect(imported.ruleset.table(.ip, "filter")?.chain("INPUT")?.rules.map(\.verdict) == [.drop])
  }

  @Test func unknownTableIsAnError() {
    let imported = IPTablesSaveImporter().importRuleset("*bogus\nCOMMIT\n", file: "x")
    #expect(imported.errors.first?.location.line == 1)
  }
}

@Suite struct FormatDetectionTests {
  @Test func formatsAreToldApart() {
    #expect(RulesetFormat.detect("# Generated\n*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n") == .iptablesSave)
    #expect(
      RulesetFormat.detect("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 2001:db8::1/128 -j DROP\nCOMMIT\n")
        == .ip6tablesSave)
    #expect(RulesetFormat.detect("table inet fw4 {\n}\n") == .nft)
    #expect(RulesetFormat.detect("{\"nftables\": []}") == .nftJSON)
    #expect(RulesetFormat.detect("hello\n") == nil)
  }

  @Test func anExplicitFamilyWins() {
    let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p ipv6-icmp -j ACCEPT\nCOMMIT\n"
    #expect(IPTablesSaveImporter().importRuleset(text, file: "x").ruleset.tables.first?.family == .ip6)
    #expect(IPTablesSaveImporter(family: .ip).importRuleset(text, file: "x").ruleset.tables.first?.family == .ip)
    let wrong = IPTablesSaveImporter(family: .ip6).importRuleset(
      "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.1 -j ACCEPT\nCOMMIT\n", file: "x")
    #expect(wrong.errors.first?.location.line == 3)
  }

  @Test func windowsLineEndingsAreRead() {
    let text = "*filter\r\n:INPUT DROP\r\n-A INPUT -p tcp --dport 22 -j ACCEPT \r\nCOMMIT\r\n"
    let imported = IPTablesSaveImporter().importRuleset(text, file: "x")
    #expect(imported.diagnostics.isEmpty)
    #expect(imported.ruleset.table(.ip, "filter")?.chain("INPUT")?.base?.policy == .drop)
    #expect(imported.ruleset.table(.ip, "filter")?.chain("INPUT")?.rules.first?.verdict == .accept)
  }
}
