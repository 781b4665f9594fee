import CIPTC

extension EntryEncoder {
  /// One `struct xt_entry_target` with its payload, in the revision iptables-legacy 1.8.9 picks.
  ///
  /// Verdicts, jumps and gotos are standard targets named by their label (`ACCEPT`, a chain
  /// name, `""` for none): libiptc turns the label into the kernel verdict or offset.
  func target(_ target: IPTTarget) -> [UInt8] {
    switch target {
    case .fallThrough: return standard("")
    case .accept: return standard("ACCEPT")
    case .drop: return standard("DROP")
    case .return: return standard("RETURN")
    case .jump(let chain), .goto(let chain): return standard(chain)
    case .reject(let with):
      // ipt_reject_info and ip6t_reject_info are both one 32-bit `with`.
      return Bytes.record(name: "REJECT", revision: 0, payload: Bytes.of(with))
    case .log(let prefix, let level):
      let bytes = Bytes.make(ipt_log_info.self) { info in
        info.level = level
        Bytes.fill(&info.prefix, string: prefix)
      }
      return Bytes.record(name: "LOG", revision: 0, payload: bytes)
    case .mark(let mark):
      let bytes = Bytes.make(xt_mark_tginfo2.self) { info in
        info.mark = mark.value
        info.mask = mark.mask
      }
      return Bytes.record(name: "MARK", revision: 2, payload: bytes)
    case .dnat(let range):
      let bytes = Bytes.make(nf_nat_range2.self) { info in
        (info.flags, info.min_addr, info.max_addr, info.min_proto, info.max_proto) = natFields(range)
      }
      return Bytes.record(name: "DNAT", revision: 2, payload: bytes)
    case .snat(let range):
      return nat("SNAT", range, revision: 1)
    case .masquerade(let ports):
      return nat("MASQUERADE", IPTNATRange(addresses: nil, ports: ports), revision: 0)
    case .redirect(let ports):
      return nat("REDIRECT", IPTNATRange(addresses: nil, ports: ports), revision: 0)
    }
  }

  /// `struct xt_standard_target`: a label, resolved by libiptc.
  func standard(_ label: String) -> [UInt8] {
    Bytes.record(name: label, revision: 0, payload: Bytes.of(Int32(0)))
  }

  /// An IPv4 target of the compat era (`nf_nat_ipv4_multi_range_compat`, revision 0) or its IPv6
  /// twin (`nf_nat_range`, the given revision).
  func nat(_ name: String, _ range: IPTNATRange, revision: UInt8) -> [UInt8] {
    let (flags, minAddress, maxAddress, minProto, maxProto) = natFields(range)
    switch family {
    case .ipv4:
      let bytes = Bytes.make(nf_nat_ipv4_multi_range_compat.self) { info in
        info.rangesize = 1
        info.range.flags = flags
        info.range.min_ip = minAddress.ip
        info.range.max_ip = maxAddress.ip
        info.range.min = minProto
        info.range.max = maxProto
      }
      return Bytes.record(name: name, revision: 0, payload: bytes)
    case .ipv6:
      let bytes = Bytes.make(nf_nat_range.self) { info in
        (info.flags, info.min_addr, info.max_addr, info.min_proto, info.max_proto) =
          (flags, minAddress, maxAddress, minProto, maxProto)
      }
      return Bytes.record(name: name, revision: revision, payload: bytes)
    }
  }

  /// `NF_NAT_RANGE_*` flags and the bounds of a mapping.
  func natFields(_ range: IPTNATRange) -> (
    UInt32, nf_inet_addr, nf_inet_addr, nf_conntrack_man_proto, nf_conntrack_man_proto
  ) {
    var flags: UInt32 = 0
    var minAddress = nf_inet_addr()
    var maxAddress = nf_inet_addr()
    var minProto = nf_conntrack_man_proto()
    var maxProto = nf_conntrack_man_proto()
    if let addresses = range.addresses {
      flags |= UInt32(NF_NAT_RANGE_MAP_IPS)
      Bytes.fill(&minAddress, with: addresses.first)
      Bytes.fill(&maxAddress, with: addresses.last)
    }
    if let ports = range.ports {
      flags |= UInt32(NF_NAT_RANGE_PROTO_SPECIFIED)
      minProto = Bytes.networkPort(ports.lowerBound)
      maxProto = Bytes.networkPort(ports.upperBound)
    }
    return (flags, minAddress, maxAddress, minProto, maxProto)
  }
}
