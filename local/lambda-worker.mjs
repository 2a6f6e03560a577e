// One Lambda execution environment: a worker thread with its own process.env that loads the
// bundled asset (the code `cdk deploy` would upload) and runs one invocation at a time.
// Plain JavaScript on purpose: it runs inside a worker thread, where the tsx loader of the
// parent process is not available.
import { register } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';

const {
  assetDir,
  handler,
  functionName,
  functionVersion,
  memoryMb,
  invokedFunctionArn,
  logGroupName,
  logStreamName,
  fallbackPackageJson,
  clock,
} = workerData;

// The local clock (local/clock.ts): real time plus a shared offset, so tests can move time
// forward (retention, grace periods) without sleeping and without touching handler code.
// The invocation deadline stays on real time (it is set by the parent in real time).
const realNow = Date.now;
if (clock) {
  const offset = new Float64Array(clock);
  const RealDate = Date;
  class LocalDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset[0]);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset[0];
    }
  }
  globalThis.Date = LocalDate;
}

if ((process.env.NODE_OPTIONS ?? '').includes('--enable-source-maps')) process.setSourceMapsEnabled(true);

// When the cloud assembly lives outside the repository, modules the bundle leaves external
// (the AWS SDK, which Lambda's runtime provides) resolve from the repository instead.
if (fallbackPackageJson) {
  const hooks = `export async function resolve(specifier, context, next) {
  try { return await next(specifier, context); }
  catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || /^[./]|^[a-z][a-z0-9+.-]*:/i.test(specifier)) throw e;
    return next(specifier, { ...context, parentURL: ${JSON.stringify(pathToFileURL(fallbackPackageJson).href)} });
  }
}`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}

const serializeError = (err) => {
  if (err instanceof Error) {
    return { errorType: err.name || 'Error', errorMessage: err.message, trace: (err.stack ?? '').split('\n') };
  }
  return { errorType: 'Error', errorMessage: typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err)), trace: [] };
};

/** Lambda's handler string "dir/file.export" → the module file and export name. */
const loadHandler = async () => {
  const dot = handler.lastIndexOf('.');
  const modulePath = handler.slice(0, dot);
  const exportPath = handler.slice(dot + 1);
  const candidates = ['.js', '.mjs', '.cjs'].map((ext) => join(assetDir, modulePath + ext));
  const file = candidates.find((f) => existsSync(f));
  if (!file) {
    const e = new Error(`Cannot find module '${modulePath}' in ${assetDir}`);
    e.name = 'Runtime.ImportModuleError';
    throw e;
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    const e = new Error(`Error: ${err?.message ?? err}`);
    e.name = 'Runtime.ImportModuleError';
    e.stack = err?.stack;
    throw e;
  }
  let fn = mod;
  for (const part of exportPath.split('.')) fn = fn?.[part] ?? (fn === mod ? mod.default?.[part] : undefined);
  if (typeof fn !== 'function') {
    const e = new Error(`${handler} is undefined or not exported`);
    e.name = 'Runtime.HandlerNotFound';
    throw e;
  }
  return fn;
};

const handlerPromise = loadHandler();
// An init error surfaces on the first invocation, as Lambda reports it.
handlerPromise.catch(() => {});
// Init ends here: Lambda does not count the init phase against the function's timeout.
const initDone = () => parentPort.postMessage({ type: 'ready' });
handlerPromise.then(initDone, initDone);

const traceId = () =>
  `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;

parentPort.on('message', async (msg) => {
  if (msg?.type !== 'invoke') return;
  const { id, eventJson, requestId, deadline } = msg;
  let settled = false;
  const reply = (ok, value) => {
    if (settled) return;
    settled = true;
    if (ok) {
      let payload;
      try {
        payload = JSON.stringify(value === undefined ? null : value);
      } catch (err) {
        parentPort.postMessage({ type: 'result', id, ok: false, error: serializeError(err) });
        return;
      }
      parentPort.postMessage({ type: 'result', id, ok: true, payload });
    } else {
      parentPort.postMessage({ type: 'result', id, ok: false, error: serializeError(value) });
    }
  };
  try {
    const fn = await handlerPromise;
    process.env._X_AMZN_TRACE_ID = traceId();
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName,
      functionVersion,
      invokedFunctionArn,
      memoryLimitInMB: String(memoryMb),
      awsRequestId: requestId,
      logGroupName,
      logStreamName,
      getRemainingTimeInMillis: () => Math.max(0, deadline - realNow()),
      done: (err, res) => reply(!err, err ?? res),
      fail: (err) => reply(false, err),
      succeed: (res) => reply(true, res),
    };
    const event = JSON.parse(eventJson);
    if (fn.length >= 3) {
      // Callback-style handler.
      const maybe = fn(event, context, (err, res) => reply(!err, err ?? res));
      if (maybe && typeof maybe.then === 'function') reply(true, await maybe);
    } else {
      reply(true, await fn(event, context));
    }
  } catch (err) {
    reply(false, err);
  }
});

parentPort.postMessage({ type: 'started' });
