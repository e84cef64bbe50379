/** `upay-pos --help`. */
export const USAGE = `upay-pos: Upay (Shouqianba) terminal tool for store IT

Usage: upay-pos <command> [options] [global options]

Commands:
  activate --app-id ID --code CODE --device-id ID --vendor-sn SN [--name NAME] [--force [--allow-open-operations]]
           --force is refused while revokes, refunds or payments are open (settle them with
           queue drain); --allow-open-operations re-activates anyway (they go on under the new terminal)
           vendor key, best first: UPAY_VENDOR_KEY=… in the environment, --vendor-key-file FILE
           (mode 600), --vendor-key-stdin (or --vendor-key -); never the key itself on the
           command line (every local user sees it in ps, the shell history keeps it)
  checkin                          rotate the terminal key (daily check-in)
  status                           terminal, key age, last check-in, queue, printer
  orders list [--day YYYY-MM-DD]   the business day's orders (UTC+8)
  orders import (--sn SN | --client-sn CSN)
  revoke (--sn SN | --client-sn CSN) [--wait SECONDS]
  revoke query (--sn SN | --client-sn CSN)    ask the gateway again about an open revoke
  queue list                       revokes, refunds and payments not final yet
  queue drain [--timeout S]        send queued revokes and refunds, resolve pending ones and open payments now
  refund (--sn SN | --client-sn CSN) (--amount YUAN | --full) [--operator NAME] [--wait SECONDS]
                                   full or partial refund (YUAN: at most two decimals, e.g. 12.34)
  refund query --id N              ask the gateway again about an open refund
  report day [--day YYYY-MM-DD] [--json | --csv] [--print]   the day report (日结), payments included
  pay --amount YUAN (--barcode CODE | --qr --payway alipay|wechat|unionpay|DIGITS)
      [--subject TEXT] [--operator NAME] [--wait SECONDS]
                                   take a payment; an unknown outcome is queried, then reversed (冲正)
                                   (YUAN: above zero, at most two decimals, e.g. 12.34; CODE: 10-32 digits)
  pay query (--client-sn CSN | --id N)        ask the gateway again about a payment
  receipt reprint (--sn SN | --client-sn CSN) print a COPY of a revoke receipt
  receipt show (--sn SN | --client-sn CSN)    show a revoke receipt as text
  receipt jobs [--state pending|printed|failed] print jobs, with their errors
  receipt retry --job N            put a failed print job back in line and print it
  printer status | printer test
  settings get | settings set KEY=VALUE ... | settings unset KEY ...
  sandbox [--port P] [--printer-port P]       run the sandbox gateway and virtual printer
  demo                             headless walkthrough on the embedded sandbox
  operators list                   who may sign in at the counter (never a PIN)
  operators add --name NAME --role cashier|supervisor|store_it
  operators disable|enable (--id N | --name NAME)
  operators reset-pin (--id N | --name NAME)  also lifts a lockout and signs the operator out
  operators unlock (--id N | --name NAME)     lift a lockout now (the PIN stays); audited
                      the PIN (4-8 digits) is typed at a hidden prompt, or read from standard
                      input redirected from a file only you can read (... < pin.txt); never on
                      the command line or in an echo/printf (the shell history keeps it)
  fleet configure (--url-file FILE | --url-stdin | --unset)   this counter's credential (from fleet grant),
                                   sealed in the key vault (or UPAY_POS_FLEET_URL); TLS (?sslmode=verify-full)
                                   unless on this machine; never printed whole
  fleet grant --terminal SN --store SN --out FILE [--counter-host H:P]   head office: one counter's credential
                                   (admin address: UPAY_POS_FLEET_ADMIN_URL, --admin-url-file or --admin-url-stdin);
                                   again: rotate; --disable: end it
  fleet migrate                    create or upgrade head office's schema (admin address as for grant)
  fleet ship [--once]              the shipper: send the export outbox (until stopped, or until empty)
  fleet status                     backlog, last shipped, lag, cap, set-aside events, last error (credential redacted)
  fleet requeue                    send the events set aside again (after head office fixed what refused them)
  fleet report --day YYYY-MM-DD [--store SN] [--csv]   day totals, open and attention from head office

Global options (anywhere; flag, then env, then stored setting, then default):
  --data-dir DIR      UPAY_POS_DATA_DIR  (default: the app's own data directory)
  --api-domain URL    UPAY_API_DOMAIN    (default: https://vsi-api.shouqianba.com); https only,
                      plain http only for this machine (127.0.0.1, ::1, localhost)
  --printer URI       UPAY_POS_PRINTER   tcp://host:port | /dev/usb/lp0 | virtual | none
  --timeout-ms MS     one timeout for every gateway call
  --json              exactly one JSON document on stdout
  --operator NAME     who runs the command, recorded in the audit log and on revokes
                      (default: the OS user); no PIN: the CLI is trusted (docs/security.md)

Exit codes: 0 success (paid, revoked, refunded), 2 invalid input or usage (nothing sent), 3 final, not done
(rejected, expired; a payment failed or canceled: no money kept), 4 not final yet (pending,
needs_attention, queued, awaiting_customer), 1 anything else.
`;
