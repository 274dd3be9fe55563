// `mamori/vue`: the widget as a Vue 3 component.
//
//   <MamoriChallenge verifier="https://safekey.issuer.example" :authentication="id"
//                    :client-secret="secret" @result="({ resultToken }) => …" />
//
// It renders a <div> and mounts the widget in it once mounted itself; unmounting the
// component, or changing an option, destroys the widget (every node, listener and timer) and
// mounts anew. Each `mamori:*` event is emitted under its name without the prefix.

import { defineComponent, h, onBeforeUnmount, onMounted, ref, watch } from 'vue';

import { EVENTS, attach } from './lifecycle.js';

export const MamoriChallenge = defineComponent({
  name: 'MamoriChallenge',
  props: {
    verifier: { type: String, required: true },
    authentication: { type: String, required: true },
    clientSecret: { type: String, required: true },
    lang: String,
    mode: String,
    // A colour scheme (`dark`) or an object of custom properties.
    theme: [String, Object],
  },
  emits: EVENTS,
  setup(props, { emit }) {
    const host = ref(null);
    let stop;
    // The options by value, so a `theme` object rebuilt with the same entries does not remount.
    const options = () => JSON.stringify(props);
    const start = () => {
      stop?.();
      stop = attach(host.value, JSON.parse(options()), emit);
    };
    onMounted(start);
    watch(options, start);
    onBeforeUnmount(() => {
      stop?.();
      stop = undefined;
    });
    return () => h('div', { ref: host });
  },
});
