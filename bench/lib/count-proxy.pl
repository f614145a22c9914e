#!/usr/bin/perl
# ssh ProxyCommand that counts the wire bytes of one connection: perl count-proxy.pl HOST PORT LOG.
# Appends `open` when connected and `close TO FROM` (bytes to the machine, from it) once both
# directions have ended, so the last bytes ssh wrote are counted. Perl, not node: a proxy starts
# with every connection and its start-up is inside the timed runs (node's ≈ 0.3 s, perl's ≈ 0.03 s).
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;

my ($host, $port, $log) = @ARGV;
$SIG{HUP} = 'IGNORE';
my ($to, $from) = (0, 0);
my $logged = 0;
sub note {
  open(my $fh, '>>', $log) or die "count-proxy: $log: $!\n";
  print $fh @_;
  close $fh;
}
sub finish {
  note("close $to $from\n") unless $logged++;
  exit 0;
}
$SIG{TERM} = \&finish;
my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp')
  or die "count-proxy: $host:$port: $!\n";
note("open\n");
binmode STDIN;
binmode STDOUT;
STDOUT->autoflush(1);
my $sel = IO::Select->new(\*STDIN, $sock);
my ($in_open, $sock_open) = (1, 1);
while ($in_open || $sock_open) {
  for my $fh ($sel->can_read) {
    my $n = sysread($fh, my $buf, 65536);
    if ($fh == $sock) {
      if (!$n) { $sock_open = 0; $sel->remove($sock); close STDOUT; last }
      $from += $n;
      my $off = 0;
      while ($off < $n) { my $w = syswrite(STDOUT, $buf, $n - $off, $off); finish() unless defined $w; $off += $w }
    } else {
      if (!$n) { $in_open = 0; $sel->remove(\*STDIN); shutdown($sock, 1); next }
      $to += $n;
      my $off = 0;
      while ($off < $n) { my $w = syswrite($sock, $buf, $n - $off, $off); finish() unless defined $w; $off += $w }
    }
  }
  # the machine closed: nothing more can go either way that counts
  last unless $sock_open;
}
finish();
