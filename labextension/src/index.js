/**
 * hotmesh-nb for JupyterLab 4: a `%%hotmesh deploy` cell is highlighted as YAML.
 *
 * JupyterLab highlights every code cell in the kernel's language and has no
 * mapping from a cell magic to another language. This plugin adds one small
 * CodeMirror 6 extension to every editor: a compartment that holds nothing,
 * except in a Python cell whose first line is `%%hotmesh deploy`, where it holds
 * JupyterLab's own YAML language (from its language registry, so no parser is
 * bundled) at the highest precedence (CodeMirror uses the first language it is
 * given). Other cells keep JupyterLab's language untouched. YAML tokens also
 * carry Lezer's stable `tok-*` classes, so tests and user CSS can address them.
 */
import { syntaxHighlighting } from '@codemirror/language';
import { Compartment, EditorState, Prec } from '@codemirror/state';
import { ViewPlugin } from '@codemirror/view';
import {
  EditorExtensionRegistry,
  IEditorExtensionRegistry,
  IEditorLanguageRegistry
} from '@jupyterlab/codemirror';
import { classHighlighter } from '@lezer/highlight';

/** The cell magic, on the first line that is not blank. */
const DEPLOY_CELL = /^\s*%%hotmesh[ \t]+deploy(?:\s|$)/;
/** Editors of Python code: notebook and console cells of a Python kernel, .py files. */
const PYTHON_MIMES = new Set(['text/x-ipython', 'text/x-python', 'text/python']);

function isDeployCell(doc) {
  return DEPLOY_CELL.test(doc.sliceString(0, Math.min(doc.length, 300)));
}

function activate(app, extensions, languages) {
  const mode = new Compartment();
  // Filled once JupyterLab has loaded its YAML language (an async chunk).
  const yaml = { active: null };
  const ready = languages.getLanguage('yaml').then(found => {
    if (found && found.support) {
      yaml.active = [Prec.highest(found.support), syntaxHighlighting(classHighlighter)];
    } else {
      console.warn('hotmesh-nb: JupyterLab has no YAML language; deploy cells stay Python');
    }
  });

  const wanted = (model, doc) =>
    yaml.active !== null && PYTHON_MIMES.has(model.mimeType) && isDeployCell(doc);
  const change = (state, on) =>
    on === (mode.get(state) === yaml.active)
      ? null
      : { effects: mode.reconfigure(on ? yaml.active : []) };

  const extension = model => [
    mode.of([]),
    // While typing: switch within the same transaction, so no keystroke is mis-coloured.
    EditorState.transactionExtender.of(tr =>
      tr.docChanged ? change(tr.startState, wanted(model, tr.newDoc)) : null
    ),
    // A cell opened from a saved notebook, or one whose kernel language arrives later.
    ViewPlugin.define(view => {
      let alive = true;
      const sync = () => {
        const spec = alive ? change(view.state, wanted(model, view.state.doc)) : null;
        if (spec) {
          view.dispatch(spec);
        }
      };
      void ready.then(sync); // never synchronously: a plugin may not dispatch while created
      model.mimeTypeChanged.connect(sync);
      return {
        destroy() {
          alive = false;
          model.mimeTypeChanged.disconnect(sync);
        }
      };
    })
  ];

  extensions.addExtension(
    Object.freeze({
      name: 'hotmesh-nb:deploy-yaml',
      factory: options =>
        EditorExtensionRegistry.createImmutableExtension(extension(options.model))
    })
  );
}

export default {
  id: 'hotmesh-nb:deploy-yaml',
  description: 'Highlight %%hotmesh deploy cells as YAML.',
  autoStart: true,
  requires: [IEditorExtensionRegistry, IEditorLanguageRegistry],
  activate
};
