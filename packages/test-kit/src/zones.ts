/**
 * Zone files of the finance migration for the zone tests: the forward zone (an SOA in
 * parentheses with comments, relative and absolute owners, a record set under a blank owner, a
 * `$TTL`, a CNAME to a host that moves, an old address on a name that is not the host's) and
 * its reverse zone.
 */
export const FORWARD = [
  '; thehumanjourney.net',
  '$TTL 86400',
  '$ORIGIN thehumanjourney.net.',
  '@\tIN\tSOA\tns1.thehumanjourney.net. hostmaster.thehumanjourney.net. (',
  '\t\t2026010101\t; serial',
  '\t\t3600\t\t; refresh',
  '\t\t900\t\t; retry',
  '\t\t1209600\t\t; expire',
  '\t\t86400 )\t\t; negative caching TTL',
  '\tIN\tNS\tns1',
  '\tIN\tMX\t10 mail',
  'ns1\tIN\tA\t10.0.10.2',
  'finance\tIN\tA\t10.0.10.48',
  '\tIN\tTXT\t"v=spf1 a; -all" ; the old box',
  'HRDB.thehumanjourney.net.\t3600\tIN\tA\t10.0.10.42',
  'www\tIN\tCNAME\tfinance',
  'mail\tIN\tA\t10.0.10.48\t; still on the old finance box',
  '',
].join('\n')

/** The reverse zone of 10.0.10.0/24 that goes with {@link FORWARD}. */
export const REVERSE = [
  '$TTL 86400',
  '@\tIN\tSOA\tns1.thehumanjourney.net. hostmaster.thehumanjourney.net. (',
  '\t\t2026010101 3600 900 1209600 86400 )',
  '\tIN\tNS\tns1.thehumanjourney.net.',
  '2\tIN\tPTR\tns1.thehumanjourney.net.',
  '48\tIN\tPTR\tfinance.thehumanjourney.net.',
  '42.10.0.10.in-addr.arpa.\tIN\tPTR\thrdb.thehumanjourney.net.',
  '',
].join('\n')
