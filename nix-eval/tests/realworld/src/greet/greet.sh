#!/bin/sh
lang=${1:-en}
jq -r ".greetings.$lang" "$NIX_ATTRS_JSON_FILE"
