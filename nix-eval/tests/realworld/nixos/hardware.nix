{ lib, ... }:
{
  networking.interfaces.eth0 = {
    useDHCP = false;
    mtu = 1500;
    ipv4.addresses = [ { address = "10.0.0.1"; prefixLength = 24; } ];
  };
  networking.interfaces.eth1.useDHCP = lib.mkDefault true;
  boot.kernelParams = [ "console=ttyS0" ];
}
