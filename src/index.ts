/**
 * Process entry: config -> database (with retries) -> migrate + seed under a lock -> listen.
 * Start-up warnings and the human start-up line are in notices.ts.
 * With WORKERS=N>1 this process prepares the database once, then runs N worker processes that
 * share the port and forwards SIGTERM/SIGINT to them.
 */
import { createApp } from './app'
import { ConfigError, loadConfig, type Config } from './config'
import { systemClock } from './lib/clock'
import { createLogger, type Logger } from './lib/log'
import { checkQrDirectory } from './core/qr/codes'
import { startServer } from './server'
import { keepDevSecrets } from './dev-secrets'
import { humanStartLine, localUrl, wantsHumanLine, warnAboutConfig } from './notices'
import { accountsWithDefaultPasswords, openDatabase, prepareDatabase, warnAboutDefaultPasswords } from './startup'

const IS_WORKER = process.env.QRBOOK_WORKER === '1'

function fail(message: string): never {
  console.error(`qrbook: ${message}`)
  process.exit(1)
}

async function runServer(config: Config, log: Logger) {
  const database = await openDatabase(config, log)
  if (!IS_WORKER) {
    await prepareDatabase(database, systemClock, log, config.seed, config.passwordHashCost)
    if (config.production) await warnAboutDefaultPasswords(database, log)
  }
  await checkQrDirectory(config, IS_WORKER ? undefined : log)
  // Checked before listening, so the human line comes right with 'listening'.
  const defaultAccounts = !IS_WORKER && wantsHumanLine(config) ? await accountsWithDefaultPasswords(database) : undefined
  const qrbook = createApp({ config, database, clock: systemClock, log, startedAt: Date.now() })
  // Before listening: the live feed serves the first request from memory (and the sweeper runs).
  await qrbook.start()
  const running = startServer(qrbook.app, config, log)
  log.info('listening', { url: running.url.href, database: database.kind, pid: process.pid })
  if (defaultAccounts) console.log(humanStartLine(config, localUrl(running.url), defaultAccounts))

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info('shutting down', { signal })
    await running.stop(Math.min(config.timeoutS, 25) * 1000)
    await qrbook.stop()
    await database.close().catch((error) => log.warn('closing the database failed', { error: String(error) }))
    log.info('stopped')
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
}

async function runPrimary(config: Config, log: Logger) {
  const database = await openDatabase(config, log)
  await prepareDatabase(database, systemClock, log, config.seed, config.passwordHashCost)
  if (config.production) await warnAboutDefaultPasswords(database, log)
  await database.close()

  // Workers must sign and verify tokens with the same keys, even generated ones.
  const env = {
    ...process.env,
    QRBOOK_WORKER: '1',
    QRBOOK_EPHEMERAL_SECRET_KEY: config.secretKey,
    QRBOOK_EPHEMERAL_JWT_SECRET_KEY: config.jwtSecretKey,
  }
  let stopping = false
  const workers = Array.from({ length: config.workers }, () =>
    Bun.spawn([process.execPath, import.meta.path], { env, stdio: ['ignore', 'inherit', 'inherit'] }))
  log.info('started workers', { workers: workers.map((w) => w.pid) })

  const stopAll = async (signal: NodeJS.Signals, code: number) => {
    if (stopping) return
    stopping = true
    for (const worker of workers) worker.kill(signal)
    await Promise.all(workers.map((w) => w.exited))
    process.exit(code)
  }
  process.on('SIGTERM', () => void stopAll('SIGTERM', 0))
  process.on('SIGINT', () => void stopAll('SIGINT', 0))
  for (const worker of workers) {
    void worker.exited.then((code) => {
      if (stopping) return
      log.error('a worker exited unexpectedly; stopping the others', { pid: worker.pid, code })
      void stopAll('SIGTERM', 1)
    })
  }
}

async function main() {
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) fail(`invalid configuration: ${error.message}`)
    throw error
  }
  const log = createLogger(config.logLevel)
  const secrets = keepDevSecrets(config)
  config = secrets.config
  if (!IS_WORKER) warnAboutConfig(config, secrets, log)

  if (config.workers > 1 && !IS_WORKER) await runPrimary(config, log)
  else await runServer(config, log)
}

main().catch((error) => fail(error instanceof Error ? error.message : String(error)))
