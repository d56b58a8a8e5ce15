{ lib, ... }:
{
  imports = [
    (lib.mkRenamedOptionModule [ "networking" "hostname" ] [ "networking" "hostName" ])
  ];
}
