import { PGlite } from '@electric-sql/pglite'
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist'
for (let i=0;i<3;i++){ const t0 = performance.now()
const db = await PGlite.create({ extensions: { btree_gist } })
await db.exec('create extension if not exists btree_gist')
console.log('create', performance.now() - t0)
const t1 = performance.now(); const c = await (db as any).clone?.(); console.log('clone', !!c, performance.now()-t1)
}
