#!/bin/bash
# Lab stand-in for Kingbase's sys_backup.sh (K26-K29; lab/media/kingbase-vendor, docs/lab.md), cluster style:
#   sys_backup.sh init     as the database user on the repository host (_repo_ip): writes <repo>/sys_rman.conf
#                          here (kb1..kbN, one per cluster node, kb-prefixed keys) and on the other nodes (over
#                          SSH: kb1-path and repo1-host*), sets archive_command on every node (in es_rep.conf,
#                          the cluster tools' file, when there is one; kingbase.conf otherwise) and reloads, then
#                          stanza-create, check and the first full backup, as the vendor's script does
#   sys_backup.sh start    the cron entries in /etc/cron.d/KINGBASECRON from the _crond_* keys (as root here;
#                          the vendor's script does it over `ssh root@<repo>`)
#   sys_backup.sh stop     removes them; pause / unpause: sys_rman stop / start
# It reads sys_backup.conf beside itself, else ../share/sys_backup.conf (the template). Differences from the
# vendor's script: the cluster's nodes come from repmgr's table (not HAmodule.conf), SSH trust must exist
# already (the vendor's asks for passwords and makes it), and the archive_command it writes ends in the
# shell comment "# pgbackrest" that the pgBackRest under the stand-in insists on.
script_dir=$(dirname "$(readlink -f "$0")")
if [ -f "$script_dir/sys_backup.conf" ]; then
  conf="$script_dir/sys_backup.conf"
elif [ -f "$script_dir/../share/sys_backup.conf" ]; then
  conf="$script_dir/../share/sys_backup.conf"
else
  echo "ERROR: sys_backup.conf does not exist"; exit 1
fi
# shellcheck disable=SC1090
. "$conf" || { echo "ERROR: $conf invalid."; exit 1; }
. "$script_dir/kb-lab-env"
kb_home=$(cd "$script_dir/.." && pwd)
data_dir="$kb_home/data"
rman="$script_dir/sys_rman"
rman_conf="${_repo_path}/sys_rman.conf"
crond=/etc/cron.d/KINGBASECRON
db_user=system          # the vendor's script takes it from the cluster's configuration (KB_USER)
db_port=54321
ssh_opts=(-n -o ConnectTimeout=30 -o BatchMode=yes -o PreferredAuthentications=publickey)
ts=$(date +%Y%m%d%H%M%S)
archive_line="archive_command = '$rman --config $rman_conf --stanza=${_stanza_name} archive-push %p # pgbackrest'"

usage() { echo "Usage: sys_backup.sh {init|start|stop|pause|unpause}"; exit 1; }
[ $# -eq 1 ] || usage
[ "${_target_db_style}" = cluster ] || { echo "ERROR: the lab stand-in knows _target_db_style=cluster only"; exit 1; }
is_local() { ${_os_ip_cmd:-ip} -o addr | ${_os_grep_cmd:-grep} -q -- " $1/"; }

# Sets archive_command in es_rep.conf (or kingbase.conf) of the data directory given, and reloads.
set_archive_command() {
  local dir="$1" file
  file="$dir/es_rep.conf"; [ -f "$file" ] || file="$dir/kingbase.conf"
  if ${_os_grep_cmd:-grep} -qxF -- "$archive_line" "$file"; then
    return 0
  elif ${_os_grep_cmd:-grep} -q "^[[:space:]]*archive_command[[:space:]]*=" "$file"; then
    ${_os_sed_cmd:-sed} -i "s|^[[:space:]]*archive_command[[:space:]]*=.*|${archive_line//&/\\&}|" "$file"
  else
    echo "$archive_line" >> "$file"
  fi
  "$script_dir/sys_ctl" -D "$dir" reload >/dev/null
}

func_init() {
  [ "$(id -un)" = "${_os_user_name}" ] || { echo "ERROR: sys_backup.sh init must be executed by db-specify user '${_os_user_name}'"; exit 5; }
  is_local "${_repo_ip}" || { echo "ERROR: repo_ip must located in local, and sys_backup.sh be executed at REPO host."; exit 7; }
  mkdir -p "${_repo_path}" || { echo "ERROR: Configured repo-path [${_repo_path}] be NOT accessable by current user"; exit 1; }
  # The cluster's nodes (addresses), the repository host first when it is one of them.
  local hosts ip others=() ordered=() n=1
  hosts=$("$script_dir/ksql" "host=${_one_db_ip} port=$db_port user=esrep dbname=esrep connect_timeout=10" -X -q -At \
    -c "select substring(conninfo from 'host=([^ ]+)') from repmgr.nodes order by node_id") \
    || { echo "ERROR: cannot read the cluster's nodes from ${_one_db_ip}"; exit 1; }
  for ip in $hosts; do
    if is_local "$ip"; then ordered=("$ip" "${ordered[@]}"); else ordered+=("$ip"); others+=("$ip"); fi
  done
  echo -n "# generate local sys_rman.conf..."
  {
    echo "# Genarate by script at $ts, should not change manually"
    echo "[${_stanza_name}]"
    for ip in "${ordered[@]}"; do
      echo "kb$n-path=$data_dir"
      echo "kb$n-port=$db_port"
      echo "kb$n-user=$db_user"
      if ! is_local "$ip"; then
        echo "kb$n-host=$ip"
        echo "kb$n-host-user=${_os_user_name}"
      fi
      n=$((n + 1))
    done
    echo ""
    echo "[global]"
    echo "repo1-path=${_repo_path}"
    echo "repo1-retention-full=${_repo_retention_full_count}"
    echo "log-path=/tmp/"
    echo "log-level-file=info"
    echo "log-level-console=info"
    echo "log-subprocess=y"
    echo "process-max=4"
    echo "#### default gz, support: gz none"
    echo "compress-type=gz"
    echo "compress-level=3"
    [ "${_band_width:-0}" -gt 0 ] 2>/dev/null && echo "# bandwidth limit ${_band_width} MB/s is not applied by the lab stand-in"
  } > "$rman_conf"
  echo "DONE"
  echo "# update all node: sys_rman.conf and archive_command with sys_rman archive-push..."
  set_archive_command "$data_dir"
  for ip in "${others[@]}"; do
    ssh "${ssh_opts[@]}" "${_os_user_name}@$ip" "mkdir -p '${_repo_path}' && printf '%s\n' \
      '# Genarate by script at $ts, should not change manually' '[${_stanza_name}]' 'kb1-path=$data_dir' \
      '[global]' 'repo1-host=${_repo_ip}' 'repo1-host-user=${_os_user_name}' 'repo1-host-config=$rman_conf' \
      'repo1-path=${_repo_path}' 'log-path=/tmp/' > '$rman_conf'" \
      || { echo "ERROR: at $ip, user '${_os_user_name}' can not access the repo-path [${_repo_path}]."; exit 1; }
    ssh "${ssh_opts[@]}" "${_os_user_name}@$ip" "$(declare -f set_archive_command); script_dir='$script_dir'; \
      archive_line=\"$archive_line\"; set_archive_command '$data_dir'" \
      || { echo "ERROR: could not set archive_command at $ip"; exit 1; }
  done
  echo "# update all node: sys_rman.conf and archive_command with sys_rman archive-push...DONE"
  echo "# create stanza and check...(maybe 60+ seconds)"
  "$rman" --config="$rman_conf" --stanza="${_stanza_name}" --log-level-console=info stanza-create >> /tmp/sys_rman_stanza-create.log 2>&1 \
    || { echo "ERROR: create stanza failed, check log file /tmp/sys_rman_stanza-create.log"; exit 2; }
  "$rman" --config="$rman_conf" --stanza="${_stanza_name}" --log-level-console=info check >> /tmp/sys_rman_check.log 2>&1 \
    || { echo "ERROR: check stanza failed, check log file /tmp/sys_rman_check.log"; exit 3; }
  echo "# create stanza and check...DONE"
  echo "# initial first full backup...(maybe several minutes)"
  "$rman" --config="$rman_conf" --stanza="${_stanza_name}" --log-level-console=info --archive-copy --type=full backup >> /tmp/sys_rman_backup.log 2>&1 \
    || { echo "ERROR: full backup failed, check log file /tmp/sys_rman_backup.log"; exit 4; }
  echo "# initial first full backup...DONE"
  echo "# Initial sys_rman OK."
  echo "'sys_backup.sh start' should be executed when need back-rest feature."
}

cron_line() {  # cron_line TYPE DAYS HOUR
  echo "0 $3 */$2 * * ${_os_user_name} $rman --config=$rman_conf --stanza=${_stanza_name} --archive-copy --type=$1 backup >>/tmp/sys_rman_backup_$1.log 2>&1"
}

func_start() {
  [ "$(id -u)" = 0 ] || { echo "ERROR: the lab stand-in writes $crond as root (the vendor's script: ssh root@${_repo_ip})"; exit 5; }
  [ -f "$rman_conf" ] || { echo "ERROR: sys_backup.sh init must executed firstly"; exit 5; }
  echo "Enable some sys_rman in crontab-daemon"
  touch "$crond"
  local type days hour
  for type in full diff incr; do
    ${_os_sed_cmd:-sed} -i "/sys_rman --config.*--type=$type backup/d" "$crond"
    eval "days=\${_crond_${type}_days:-0}; hour=\${_crond_${type}_hour:-0}"
    if [ "$days" -gt 0 ] && [ "$hour" -ge 0 ]; then
      echo "Set $type-backup in $days days"
      cron_line "$type" "$days" "$hour" >> "$crond"
    fi
  done
  chmod 0644 "$crond"
  ${_os_grep_cmd:-grep} sys_rman "$crond"
}

func_stop() {
  [ "$(id -u)" = 0 ] || { echo "ERROR: the lab stand-in edits $crond as root"; exit 5; }
  echo "Disable all sys_rman in crontab-daemon"
  [ -f "$crond" ] && ${_os_sed_cmd:-sed} -i "/sys_rman --config.*--type=[a-z]* backup/d" "$crond"
}

case "$1" in
  init) func_init ;;
  start) func_start ;;
  stop) func_stop ;;
  pause) echo "Puase the sys_rman...DONE"; "$rman" --config="$rman_conf" --stanza="${_stanza_name}" stop >> /tmp/sys_rman_backup.log 2>&1 ;;
  unpause) echo "Un-Puase the sys_rman...DONE"; "$rman" --config="$rman_conf" --stanza="${_stanza_name}" start >> /tmp/sys_rman_backup.log 2>&1 ;;
  *) usage ;;
esac
