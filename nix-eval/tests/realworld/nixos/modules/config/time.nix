{ config, lib, ... }:
{
  options.time.timeZone = lib.mkOption {
    type = lib.types.nullOr lib.types.str;
    default = null;
    example = "Europe/Amsterdam";
  };
  options.i18n.defaultLocale = lib.mkOption { type = lib.types.str; default = "en_US.UTF-8"; };
  config.environment.variables = lib.mkMerge [
    (lib.mkIf (config.time.timeZone != null) { TZ = config.time.timeZone; })
    { LANG = config.i18n.defaultLocale; }
  ];
}
