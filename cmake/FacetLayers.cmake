# The layering, checked: kernels -> engine -> pipeline -> bin (each uses only what is below it).
#   kernels/   includes kernels/ only: pure functions, no tensors, no framework
#   engine/    includes kernels/ and engine/
#   pipeline/  includes engine/ and pipeline/ (never kernels/: what it needs from them the engine
#              re-exports, e.g. engine/tensor/dtype.h, engine/core/random.h)
#   bin/       includes pipeline/ and engine/ (the types pipeline's API uses: Context, Error)
# facet_engine links facet_kernels PRIVATE, so a kernel symbol cannot be linked from above; this
# file catches the includes. A project #include is one of the form "<layer>/...".
#
# Included from the top-level CMakeLists.txt it adds the target facet_layers, which every library
# waits for, so an include across the arrows is a build error naming the file. Run as a script it
# checks a tree and fails listing each offending include (ctest runs it as tree/layering):
#   cmake -DFACET_SOURCE_DIR=<tree> -P cmake/FacetLayers.cmake

set(FACET_LAYERS kernels engine pipeline bin)
set(FACET_LAYER_ALLOWED_kernels kernels)
set(FACET_LAYER_ALLOWED_engine kernels engine)
set(FACET_LAYER_ALLOWED_pipeline engine pipeline)
set(FACET_LAYER_ALLOWED_bin engine pipeline bin)
set(FACET_LAYER_GLOBS *.h *.hpp *.cuh *.cpp *.cc *.cu)

# The sources of one layer; pass CONFIGURE_DEPENDS to re-glob at build time.
function(facet_layer_sources root layer out)
  set(globs)
  foreach(g ${FACET_LAYER_GLOBS})
    list(APPEND globs ${root}/${layer}/${g})
  endforeach()
  file(GLOB_RECURSE files ${ARGN} ${globs})
  set(${out} ${files} PARENT_SCOPE)
endfunction()

function(facet_check_layers root)
  set(violations)
  foreach(layer ${FACET_LAYERS})
    facet_layer_sources(${root} ${layer} files)
    foreach(f ${files})
      file(STRINGS ${f} includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]([a-z_]+)/")
      foreach(line ${includes})
        string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"]([a-z_]+)/.*$" "\\1" target "${line}")
        list(FIND FACET_LAYERS ${target} is_layer)
        list(FIND FACET_LAYER_ALLOWED_${layer} ${target} allowed)
        if(is_layer GREATER -1 AND allowed EQUAL -1)
          file(RELATIVE_PATH rel ${root} ${f})
          string(STRIP "${line}" line)
          list(JOIN FACET_LAYER_ALLOWED_${layer} "/, " allowed_text)
          list(APPEND violations "  ${rel}: ${line}   (${layer}/ may include only ${allowed_text}/)")
        endif()
      endforeach()
    endforeach()
  endforeach()
  if(violations)
    list(JOIN violations "\n" text)
    message(NOTICE "facet layering (kernels -> engine -> pipeline -> bin) broken in ${root}:\n${text}\n"
                   "Move what the upper layer needs into the API of the layer below it (cmake/FacetLayers.cmake).")
    message(FATAL_ERROR "facet layering broken")
  endif()
  message(STATUS "facet layering: every include in ${root} follows kernels -> engine -> pipeline -> bin")
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  if(NOT FACET_SOURCE_DIR)
    message(FATAL_ERROR "usage: cmake -DFACET_SOURCE_DIR=<tree> [-DFACET_STAMP=<file>] -P FacetLayers.cmake")
  endif()
  facet_check_layers(${FACET_SOURCE_DIR})
  if(FACET_STAMP)
    file(TOUCH ${FACET_STAMP})
  endif()
  return()
endif()

# Configure mode: re-check whenever a source of any layer changes (the glob is re-run when files
# are added or removed).
set(facet_layer_all_sources)
foreach(layer ${FACET_LAYERS})
  facet_layer_sources(${PROJECT_SOURCE_DIR} ${layer} files CONFIGURE_DEPENDS)
  list(APPEND facet_layer_all_sources ${files})
endforeach()
add_custom_command(
  OUTPUT ${PROJECT_BINARY_DIR}/facet_layers.stamp
  COMMAND ${CMAKE_COMMAND} -DFACET_SOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DFACET_STAMP=${PROJECT_BINARY_DIR}/facet_layers.stamp -P ${CMAKE_CURRENT_LIST_FILE}
  DEPENDS ${facet_layer_all_sources} ${CMAKE_CURRENT_LIST_FILE}
  COMMENT "Checking the layering kernels -> engine -> pipeline -> bin"
  VERBATIM)
add_custom_target(facet_layers DEPENDS ${PROJECT_BINARY_DIR}/facet_layers.stamp)
foreach(lib facet_kernels facet_engine facet_pipeline)
  if(TARGET ${lib})
    add_dependencies(${lib} facet_layers)
  endif()
endforeach()
