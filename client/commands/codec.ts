/** `billing codec-server`: Temporal's codec server protocol with the configured keys (codec/server.ts). */
import type { Command } from 'commander';
import { EncryptionCodec } from '../../codec/encryption';
import { codecKeysFromConfig } from '../../codec/keys';
import { localUiOrigins, startCodecServer } from '../../codec/server';
import { LOCAL_PORTS } from '../../config';
import { InputError, type RunCommand } from '../context';
import { output } from '../output';

const say = (line: string): void => {
  output().stderr.write(`${line}\n`);
};

export function registerCodecCommands(program: Command, run: RunCommand): void {
  program
    .command('codec-server')
    .description("decode and encode payloads for the Temporal UI and the temporal CLI with the configured keys (Temporal's codec server protocol)")
    .option('--port <port>', 'port to listen on', String(LOCAL_PORTS.codecServer))
    .option('--host <host>', 'address to listen on (127.0.0.1: this machine only)', '127.0.0.1')
    .option(
      '--origin <url>',
      "the Temporal UI's origin, allowed to call it from a browser (repeatable; default: the local UI's, http://localhost:8233 and http://127.0.0.1:8233)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .action((opts) =>
      run(async (ctx) => {
        const keys = codecKeysFromConfig(ctx.config);
        if (!keys) throw new InputError('no encryption key is configured: set BILLING_CODEC_KEYS or BILLING_CODEC_KEY_FILE to the keys the workers use');
        const port = Number(opts.port);
        if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InputError(`--port ${JSON.stringify(opts.port)} is not a port number (0 to 65535)`);
        const origins = (opts.origin as string[] | undefined) ?? localUiOrigins();
        for (const origin of origins) {
          let parsed: URL | undefined;
          try {
            parsed = new URL(origin);
          } catch {
            parsed = undefined;
          }
          if (!parsed || parsed.origin !== origin.replace(/\/+$/, ''))
            throw new InputError(`--origin ${JSON.stringify(origin)} is not an origin: give scheme, host and port only, e.g. http://localhost:8233`);
        }
        const server = await startCodecServer({ codec: new EncryptionCodec(keys), origins, token: ctx.config.codecToken, host: opts.host as string, port });
        say(
          `codec server on ${server.url}: POST /decode and /encode with keys ${keys.map((k) => k.id).join(', ')}; browsers allowed from ${origins.join(', ')}; ${ctx.config.codecToken ? 'bearer token required' : 'no token (set BILLING_CODEC_TOKEN to require one)'}`,
        );
        say(
          `Temporal UI: --ui-codec-endpoint ${server.url} (or its settings' "Codec Server" field); temporal CLI: --codec-endpoint ${server.url}${ctx.config.codecToken ? ' --codec-auth "Bearer $BILLING_CODEC_TOKEN"' : ''}`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
      }),
    );
}
